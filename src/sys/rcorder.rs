//! What rc reads to order scripts: whether the tree asks for one script at a time, its
//! `.depend.*` files (Debian's insserv writes them, startpar reads them), the scripts'
//! LSB headers (with chkconfig's overrides) and insserv.conf's facilities. The decisions
//! are `plan::schedule`'s.

use std::collections::BTreeMap;
use std::path::Path;

use crate::format::depend::{self, DependFile};
use crate::format::facilities::Facilities;
use crate::format::header::Header;
use crate::format::runlevel::Runlevel;
use crate::plan::deps::Kind;
use crate::plan::rc::Step;
use crate::plan::schedule::ScriptOrder;
use crate::sys::fs::read_config;
use crate::sys::layout::Root;

/// Why the tree wants a sequential boot, if it does (as Debian's rc decides).
pub fn sequential_reason(root: &Root) -> Option<String> {
    let legacy = root.init_d().join(".legacy-bootordering");
    if legacy.exists() {
        return Some(format!("{} exists", legacy.display()));
    }
    if let Ok(text) = crate::sys::fs::read_config_text(&root.default_rcs()) {
        let vars = crate::format::shell_vars::parse(&text);
        if vars.get("CONCURRENCY").is_some_and(|v| v == "none") {
            return Some(format!(
                "CONCURRENCY=none in {}",
                root.default_rcs().display()
            ));
        }
    }
    // The kernel command line belongs to the running system only.
    if root.dir() == Path::new("/") {
        let cmdline =
            crate::sys::fs::read_config_text(Path::new("/proc/cmdline")).unwrap_or_default();
        if cmdline.split_whitespace().any(|w| w == "concurrency=none") {
            return Some("concurrency=none on the kernel command line".into());
        }
    }
    None
}

/// The `.depend.*` file for a phase: `boot` for level S, else `start` or `stop`. None
/// when the tree has none; problems in it are returned as messages.
pub fn read_depend(root: &Root, level: Runlevel, kind: Kind) -> Option<(DependFile, Vec<String>)> {
    let name = match (level == Runlevel::SINGLE, kind) {
        (true, Kind::Start) => ".depend.boot",
        (_, Kind::Start) => ".depend.start",
        (_, Kind::Stop) => ".depend.stop",
    };
    let path = root.init_d().join(name);
    let bytes = read_config(&path).ok()?;
    let (file, errors) = depend::parse(&bytes);
    if file.targets.is_empty() {
        // Debian's rc too treats an empty file as none.
        return None;
    }
    let problems = errors
        .iter()
        .map(|e| format!("{}:{}: {}", path.display(), e.line, e.reason))
        .collect();
    Some((file, problems))
}

/// The order each script of `steps` declares in its header (an override in
/// `etc/chkconfig.d` laid over it), by service name.
pub fn read_headers(root: &Root, steps: &[Step]) -> BTreeMap<String, ScriptOrder> {
    let mut out = BTreeMap::new();
    for step in steps {
        let name = step.service();
        if out.contains_key(name) {
            continue;
        }
        let Ok(bytes) = read_config(&step.script) else {
            continue;
        };
        let mut header = Header::parse(&bytes);
        if let Ok(over) = read_config(&root.chkconfig_d().join(name)) {
            header = header.overlay(&Header::parse(&over));
        }
        if let Some(order) = order_of(name, &header) {
            out.insert(name.to_string(), order);
        }
    }
    out
}

/// A header's order, when it has an LSB block.
fn order_of(name: &str, header: &Header) -> Option<ScriptOrder> {
    let lsb = header.lsb.as_ref()?;
    let mut provides = vec![name.to_string()];
    for p in lsb.provides.iter().flatten() {
        if !provides.contains(p) {
            provides.push(p.clone());
        }
    }
    Some(ScriptOrder {
        provides,
        deps: lsb.dependencies(),
        declared: true,
        interactive: lsb.x_interactive.unwrap_or(false),
    })
}

/// insserv.conf's facilities.
pub fn read_facilities(root: &Root) -> Facilities {
    crate::sys::services::read_facilities(root)
}
