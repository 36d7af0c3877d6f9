//! The services of a root as chkconfig, update-rc.d, service and ntsysv see them: read
//! into plain data (`plan::services::Services`: the scripts of `init.d` with their
//! headers, overrides from `etc/chkconfig.d` applied, their links in `rc0.d`…`rc6.d`
//! and `rcS.d`, the xinetd services of `etc/xinetd.d`), and a plan carried out: the
//! links through `sys::links`, atomically, the xinetd files edited in place, the
//! superserver reloaded.
//!
//! A change reads: [`scan`] here, `Services::plan` in `plan::services`, [`apply`] or
//! [`apply_batch`] here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{AtPath, SysError, ToolError};
use crate::format::facilities::Facilities;
use crate::format::header::Header;
use crate::format::levelset::{level, RC_LEVELS};
use crate::format::rclink::{
    check_service_name, is_ignored_script_name, parse_link_name, LinkName, NameError,
};
use crate::format::runlevel::Runlevel;
use crate::format::xinetd_edit::{self, EditError};
use crate::plan::services::{LinkFile, Plan, PlanError, Service, Services, XinetdService};
use crate::sys::fs::{read_config, read_config_text};
use crate::sys::layout::{proc_pid, Root};
use crate::sys::links::{self, LinksError};

/// Why reading or changing the services failed.
#[derive(Debug)]
pub(crate) enum ServicesError {
    Sys(SysError),
    Links(LinksError),
    BadName(NameError),
    Edit { path: PathBuf, error: EditError },
    Plan(PlanError),
}

impl ServicesError {
    /// A planning error told with the root's paths: the rc directory a level lacks.
    pub(crate) fn planning(root: &Root, e: PlanError) -> ServicesError {
        match e {
            PlanError::NoRcDir(level) => ServicesError::Sys(SysError::at(
                &root.rc_dir(level),
                std::io::Error::from_raw_os_error(libc::ENOENT),
            )),
            other => ServicesError::Plan(other),
        }
    }
}

impl fmt::Display for ServicesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServicesError::Sys(e) => e.fmt(f),
            ServicesError::Links(e) => e.fmt(f),
            ServicesError::BadName(e) => e.fmt(f),
            ServicesError::Edit { path, error } => write!(f, "{}: {error}", path.display()),
            ServicesError::Plan(e) => e.fmt(f),
        }
    }
}

impl ToolError for ServicesError {}

impl From<SysError> for ServicesError {
    fn from(e: SysError) -> ServicesError {
        ServicesError::Sys(e)
    }
}

impl From<LinksError> for ServicesError {
    fn from(e: LinksError) -> ServicesError {
        ServicesError::Links(e)
    }
}

/// What a scan found, and what it could not read (one line each).
#[derive(Debug)]
pub(crate) struct Scanned {
    pub services: Services,
    pub problems: Vec<String>,
}

/// Reads the services of `root`. An interrupted change to the links is finished first
/// when possible, so that what is read is one consistent state.
pub(crate) fn scan(root: &Root) -> Result<Scanned, SysError> {
    scan_scripts(root, None)
}

/// Like [`scan`], but reads the headers of the named scripts only (every link is still
/// read). Enough to show or query a few services; not to change one, which needs every
/// header for the dependencies.
pub(crate) fn scan_only(root: &Root, names: &[&str]) -> Result<Scanned, SysError> {
    scan_scripts(root, Some(names))
}

fn scan_scripts(root: &Root, only: Option<&[&str]>) -> Result<Scanned, SysError> {
    let mut problems = Vec::new();
    if links::pending(root) {
        match links::recover(root) {
            Ok(recovery) => problems.extend(recovery.dropped),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mut reader = Reader {
        root,
        services: Services {
            facilities: read_facilities(root),
            ..Services::default()
        },
        problems,
    };
    reader.read_scripts(only)?;
    reader.read_links(only);
    reader.read_xinetd();
    Ok(Scanned {
        services: reader.services,
        problems: reader.problems,
    })
}

/// A scan under way.
struct Reader<'a> {
    root: &'a Root,
    services: Services,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn read_scripts(&mut self, only: Option<&[&str]>) -> Result<(), SysError> {
        let dir = self.root.init_d();
        let listing = fs::read_dir(&dir)
            .map_err(|e| SysError::doing(format!("failed to open {}", dir.display()), e))?;
        let overrides_dir = self.root.chkconfig_d();
        // Listed once: most services have no override, and a failed open per service
        // costs a path walk each.
        let overrides: BTreeSet<String> = fs::read_dir(&overrides_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        for entry in listing.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if is_ignored_script_name(&name)
                || check_service_name(&name).is_err()
                || only.is_some_and(|o| !o.contains(&name.as_str()))
            {
                continue;
            }
            let path = entry.path();
            // The directory entry's type costs no system call; a link needs a stat.
            let regular = match entry.file_type() {
                Ok(t) if t.is_file() => true,
                Ok(t) if t.is_symlink() => fs::metadata(&path).is_ok_and(|m| m.is_file()),
                _ => false,
            };
            if regular {
                let over = overrides.contains(&name).then(|| overrides_dir.join(&name));
                self.read_script(name, &path, over.as_deref());
            }
        }
        Ok(())
    }

    /// One script, its override (if it has one) laid over its header.
    fn read_script(&mut self, name: String, path: &Path, override_file: Option<&Path>) {
        let text = match read_config(path) {
            Ok(t) => t,
            Err(e) => {
                self.problems.push(SysError::at(path, e).to_string());
                return;
            }
        };
        let script_header = Header::parse(&text);
        let header = match override_file.and_then(|o| self.read_override(o)) {
            Some(over) => script_header.overlay(&Header::parse(&over)),
            None => script_header.clone(),
        };
        let info = header.service_info(&name);
        self.services.sysv.insert(
            name.clone(),
            Service {
                name,
                installed: true,
                header,
                script_header,
                info,
                links: BTreeMap::new(),
            },
        );
    }

    fn read_links(&mut self, only: Option<&[&str]>) {
        let init_d = self.root.resolve(&self.root.init_d()).ok();
        for c in RC_LEVELS {
            let lv = level(c);
            let dir = self.root.rc_dir(lv);
            let Ok(listing) = fs::read_dir(&dir) else {
                continue;
            };
            self.services.rc_levels = self.services.rc_levels.with(lv);
            let mut into_init_d = LinkDirs::new(self.root, &dir, init_d.as_deref());
            for entry in listing.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let wanted = |o: &[&str]| name.get(3..).is_some_and(|s| o.contains(&s));
                if only.is_some_and(|o| !wanted(o)) {
                    continue;
                }
                let LinkName::Link(link) = parse_link_name(&name) else {
                    continue;
                };
                if !into_init_d.is_link_to(&entry, &link.service) {
                    continue;
                }
                self.services
                    .sysv
                    .entry(link.service.clone())
                    .or_insert_with(|| Service::missing(&link.service))
                    .links
                    .entry(lv)
                    .or_default()
                    .push(LinkFile { name, link });
            }
        }
        for service in self.services.sysv.values_mut() {
            for links in service.links.values_mut() {
                links.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }

    /// An override file's header; None when there is none (an unreadable one is a
    /// problem, reported).
    fn read_override(&mut self, path: &Path) -> Option<Vec<u8>> {
        match read_config(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                self.problems.push(SysError::at(path, e).to_string());
                None
            }
        }
    }

    fn read_xinetd(&mut self) {
        let Ok(listing) = fs::read_dir(self.root.xinetd_d()) else {
            return;
        };
        for entry in listing.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = entry.path();
            if is_ignored_script_name(&name) || !fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let Ok(text) = read_config(&path) else {
                continue;
            };
            self.services.xinetd.insert(
                name.clone(),
                XinetdService {
                    name,
                    enabled: xinetd_edit::is_enabled(&text),
                    default_enabled: xinetd_edit::default_enabled(&text),
                    description: xinetd_edit::description(&text),
                },
            );
        }
    }
}

/// The header of a script of `init.d`, if it is a readable, non-empty regular file.
pub(crate) fn read_script_header(root: &Root, name: &str) -> Option<Header> {
    let text = read_config(&root.init_script(name)).ok()?;
    (!text.is_empty()).then(|| Header::parse(&text))
}

/// Whether `init.d/NAME` is a regular file (a link to one counts).
pub(crate) fn script_exists(root: &Root, name: &str) -> bool {
    root.init_script(name).is_file()
}

/// Whether this process may change the links: write access to init.d and to every rc
/// directory.
pub(crate) fn can_change_links(root: &Root, services: &Services) -> bool {
    check_links_writable(root, services).is_ok()
}

/// [`can_change_links`], or the first directory that is not writable (`init.d` holds
/// the journal), as `PATH: Permission denied`.
pub(crate) fn check_links_writable(root: &Root, services: &Services) -> Result<(), SysError> {
    let dirs =
        std::iter::once(root.init_d()).chain(services.rc_levels.iter().map(|l| root.rc_dir(l)));
    for dir in dirs {
        nix::unistd::access(&dir, nix::unistd::AccessFlags::W_OK)
            .map_err(|e| SysError::at(&dir, e.into()))?;
    }
    Ok(())
}

/// Whether this process may turn xinetd services on and off: write access to
/// `xinetd.d`.
pub(crate) fn can_change_xinetd(root: &Root) -> bool {
    nix::unistd::access(&root.xinetd_d(), nix::unistd::AccessFlags::W_OK).is_ok()
}

/// Applies a plan's links, atomically (see `sys::links`). What comes back: what an
/// interrupted change found first had to drop (see `links::apply`), one line each.
pub(crate) fn apply(root: &Root, plan: &Plan) -> Result<Vec<String>, LinksError> {
    links::apply(root, &plan.ops)
}

/// Applies a batch of changes the way every tool does: the links first (one
/// transaction), then the xinetd services (see [`switch_xinetd`]).
pub(crate) fn apply_batch(
    root: &Root,
    plan: &Plan,
    xinetd: &[(String, bool)],
) -> Result<Vec<String>, ServicesError> {
    let notes = apply(root, plan)?;
    switch_xinetd(root, xinetd)?;
    Ok(notes)
}

/// Which entries of one rc directory are a service's links: symbolic links whose target
/// names the service's script in `init.d` (resolved inside the root; the script itself
/// may be gone). A regular file, or a link elsewhere, that happens to carry a link's
/// name is not one: taking it for one would renumber or delete the service's real link.
struct LinkDirs<'a> {
    root: &'a Root,
    dir: PathBuf,
    init_d: Option<&'a Path>,
    /// Target directories already resolved (nearly every link says `../init.d`).
    known: BTreeMap<PathBuf, bool>,
}

impl<'a> LinkDirs<'a> {
    fn new(root: &'a Root, dir: &Path, init_d: Option<&'a Path>) -> LinkDirs<'a> {
        LinkDirs {
            root,
            dir: root.resolve(dir).unwrap_or_else(|_| dir.to_path_buf()),
            init_d,
            known: BTreeMap::new(),
        }
    }

    fn is_link_to(&mut self, entry: &fs::DirEntry, service: &str) -> bool {
        if !entry.file_type().is_ok_and(|t| t.is_symlink()) {
            return false;
        }
        let Ok(target) = fs::read_link(entry.path()) else {
            return false;
        };
        if target.file_name() != Some(std::ffi::OsStr::new(service)) {
            return false;
        }
        let parent = target.parent().unwrap_or(Path::new("")).to_path_buf();
        let (root, dir, init_d) = (self.root, &self.dir, self.init_d);
        *self.known.entry(parent).or_insert_with_key(|parent| {
            let resolved = root.resolve_link_target(dir, parent).ok();
            resolved.is_some() && resolved.as_deref() == init_d
        })
    }
}

/// The facilities of `insserv.conf` and `insserv.conf.d`.
pub(crate) fn read_facilities(root: &Root) -> Facilities {
    let mut facilities = Facilities::default();
    if let Ok(text) = read_config_text(&root.insserv_conf()) {
        facilities.add_file(&text);
    }
    if let Ok(dir) = fs::read_dir(root.insserv_conf_d()) {
        let mut files: Vec<PathBuf> = dir
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| !is_ignored_script_name(n))
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            if let Ok(text) = read_config_text(&file) {
                facilities.add_file(&text);
            }
        }
    }
    facilities
}

/// Turns an xinetd service on or off by editing its file (see `format::xinetd_edit`),
/// keeping its mode and owner, replacing it atomically. True if the file changed.
fn set_xinetd(root: &Root, name: &str, on: bool) -> Result<bool, ServicesError> {
    check_service_name(name).map_err(ServicesError::BadName)?;
    let path = root.xinetd_d().join(name);
    let text = read_config(&path).at(&path)?;
    let meta = fs::metadata(&path).at(&path)?;
    let new = xinetd_edit::set_enabled(&text, on).map_err(|error| ServicesError::Edit {
        path: path.clone(),
        error,
    })?;
    if new == text {
        return Ok(false);
    }
    crate::sys::fs::write_atomic_as(
        &path,
        &new,
        crate::sys::fs::FileMode {
            mode: meta.mode() & 0o7777,
            owner: Some((meta.uid(), meta.gid())),
        },
    )
    .at(&path)?;
    Ok(true)
}

/// Turns xinetd services on or off (see [`set_xinetd`]), then reloads the superserver
/// once if any file changed — also when a later file failed, since the earlier changes
/// are on disk. The first error is returned.
pub(crate) fn switch_xinetd(root: &Root, changes: &[(String, bool)]) -> Result<(), ServicesError> {
    let mut changed = false;
    let mut first_error = None;
    for (name, on) in changes {
        match set_xinetd(root, name, *on) {
            Ok(c) => changed |= c,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if changed {
        if let Err(e) = reload_superserver(root) {
            first_error.get_or_insert(e.into());
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Asks a running superserver to re-read its configuration (SIGHUP). The superserver
/// is found through its pidfile and checked to be one (its program or its command
/// line), so that a stale pidfile never sends a signal to some other process. Returns
/// the pid signalled, or None when no superserver runs.
fn reload_superserver(root: &Root) -> Result<Option<i32>, SysError> {
    let pidfile = root.pidfile("xinetd");
    let Ok(Some(pid)) = crate::sys::pidfile::read_pidfile(&pidfile) else {
        return Ok(None);
    };
    if !is_superserver(pid) {
        return Ok(None);
    }
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).map_err(|e| {
        SysError::doing(
            format!("cannot signal the superserver (pid {pid})"),
            e.into(),
        )
    })?;
    Ok(Some(pid.as_raw()))
}

fn is_superserver(pid: nix::unistd::Pid) -> bool {
    const NAMES: &[&str] = &["xinetd", "inetd"];
    if !crate::sys::proc::is_alive(pid) {
        return false;
    }
    let proc_dir = proc_pid(pid.as_raw());
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let exe = fs::read_link(proc_dir.join("exe"))
        .map(|p| base(&p.to_string_lossy()))
        .unwrap_or_default();
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    let argv: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let argv0 = argv.first().map(|a| base(a)).unwrap_or_default();
    if NAMES.contains(&exe.as_str()) || NAMES.contains(&argv0.as_str()) {
        return true;
    }
    // vinit's own superserver: `vinit xinetd` (or `vinit --root DIR xinetd`).
    (exe == "vinit" || argv0 == "vinit") && argv.iter().skip(1).any(|a| NAMES.contains(&a.as_str()))
}

/// The current runlevel, from the file our init keeps (`run/runlevel`: the level's
/// character; `N 3` as `runlevel` prints it is read too).
pub(crate) fn current_runlevel(root: &Root) -> Option<Runlevel> {
    let text = read_config_text(&root.runlevel_file()).ok()?;
    let word = text.split_whitespace().last()?;
    let mut chars = word.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Runlevel::from_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::os::unix::fs::PermissionsExt;

    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
            for c in RC_LEVELS {
                fs::create_dir_all(dir.path().join(format!("etc/rc{c}.d"))).unwrap();
            }
            Tree { dir }
        }

        fn script(&self, name: &str, header: &str) {
            fs::write(
                self.dir.path().join("etc/init.d").join(name),
                format!("#!/bin/sh\n{header}\n"),
            )
            .unwrap();
        }

        fn link(&self, level: char, name: &str, target: &str) {
            symlink(
                target,
                self.dir.path().join(format!("etc/rc{level}.d/{name}")),
            )
            .unwrap();
        }

        fn root(&self) -> Root {
            Root::open(self.dir.path())
        }

        fn scan(&self) -> Services {
            scan(&self.root()).unwrap().services
        }

        fn xinetd(&self, name: &str, text: &str) -> PathBuf {
            let dir = self.dir.path().join("etc/xinetd.d");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(name), text).unwrap();
            dir.join(name)
        }

        fn names(&self, service: &str) -> Vec<String> {
            self.scan().sysv[service]
                .link_names()
                .into_iter()
                .map(|(l, n)| format!("{l}:{n}"))
                .collect()
        }
    }

    const ALPHA: &str = "# chkconfig: 2345 55 25\n# description: alpha";

    #[test]
    fn scan_plan_apply() {
        let t = Tree::new();
        t.script("alpha", ALPHA);
        t.script("noheader", "echo");
        t.link('2', "S20gone", "../init.d/gone");
        let services = t.scan();
        assert!(services.service("noheader").unwrap().info.is_err());
        assert!(services.service("gone").is_none() && services.sysv["gone"].is_configured());
        let plan = services
            .plan(&[services.add("alpha"), services.delete("gone")])
            .unwrap();
        assert!(can_change_links(&t.root(), &services));
        apply(&t.root(), &plan).unwrap();
        // What was planned is what is on disk.
        let planned: Vec<String> = plan.changes["alpha"]
            .after
            .iter()
            .map(|(l, n)| format!("{l}:{n}"))
            .collect();
        assert_eq!(t.names("alpha"), planned);
        assert_eq!(planned[2], "2:S55alpha");
        assert!(!t.scan().sysv.contains_key("gone"));
        assert_eq!(
            read_script_header(&t.root(), "alpha")
                .unwrap()
                .description
                .as_deref(),
            Some("alpha")
        );
        assert!(script_exists(&t.root(), "alpha") && !script_exists(&t.root(), "gone"));
    }

    #[test]
    fn only_links_into_init_d_are_links() {
        let t = Tree::new();
        t.script("a", ALPHA);
        t.link('3', "S10a", "/etc/init.d/a");
        t.link('4', "S10a", "/bin/true");
        fs::write(t.dir.path().join("etc/rc5.d/S10a"), "a stray file").unwrap();
        assert_eq!(t.names("a"), ["3:S10a"]);
        let only = scan_only(&t.root(), &["nosuch"]).unwrap().services;
        assert!(only.sysv.is_empty());
    }

    #[test]
    fn a_missing_rc_directory_is_named_with_its_path() {
        let t = Tree::new();
        t.script("x", "# chkconfig: 2345 1 1");
        fs::remove_dir(t.dir.path().join("etc/rc4.d")).unwrap();
        let services = t.scan();
        let err = services.plan(&[services.add("x")]).unwrap_err();
        let err = ServicesError::planning(&t.root(), err).to_string();
        assert!(
            err.ends_with("etc/rc4.d: No such file or directory") && err.starts_with('/'),
            "{err}"
        );
    }

    #[test]
    fn xinetd_edit_keeps_mode_and_the_rest() {
        let t = Tree::new();
        let text = "# default: off\nservice echo\n{\n\ttype\t= INTERNAL\n\tdisable\t= yes\n}\n";
        let file = t.xinetd("echo", text);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        let root = t.root();
        assert!(!t.scan().xinetd["echo"].enabled);
        assert!(set_xinetd(&root, "echo", true).unwrap());
        assert!(!set_xinetd(&root, "echo", true).unwrap());
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            text.replace("= yes", "= no")
        );
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o640);
        let s = t.scan();
        assert!(s.xinetd["echo"].enabled);
        assert_eq!(s.xinetd["echo"].default_enabled, Some(false));
        assert_eq!(fs::read_dir(file.parent().unwrap()).unwrap().count(), 1);
        t.xinetd("broken", "# nothing to switch\n");
        assert_eq!(
            set_xinetd(&root, "broken", true).unwrap_err().to_string(),
            format!(
                "{}: no service block to add 'disable' to",
                root.xinetd_d().join("broken").display()
            )
        );
    }

    #[test]
    fn a_planted_temporary_never_redirects_an_xinetd_edit() {
        let t = Tree::new();
        let file = t.xinetd("echo", "service echo\n{\n\tdisable\t= yes\n}\n");
        let victim = t.dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let planted = crate::sys::fs::temporary_sibling(&file).unwrap();
        symlink(&victim, &planted).unwrap();
        assert!(set_xinetd(&t.root(), "echo", true).unwrap());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(fs::read_to_string(&file).unwrap().contains("= no"));
        assert!(fs::symlink_metadata(&planted).is_err());
        // An xinetd file that is a FIFO is refused, not waited on.
        let fifo = file.parent().unwrap().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = set_xinetd(&t.root(), "fifo", true).unwrap_err().to_string();
        assert!(err.ends_with("fifo: not a regular file"), "{err}");
    }

    #[test]
    fn switching_xinetd_services_goes_on_past_a_failure() {
        let t = Tree::new();
        let text = "service echo\n{\n\tdisable\t= yes\n}\n";
        t.xinetd("echo", text);
        t.xinetd("time", &text.replace("echo", "time"));
        let root = t.root();
        assert!(can_change_xinetd(&root));
        let err = switch_xinetd(
            &root,
            &[
                ("echo".into(), true),
                ("missing".into(), true),
                ("time".into(), true),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with("etc/xinetd.d/missing: No such file or directory"),
            "{err}"
        );
        let after = t.scan();
        assert!(after.xinetd["echo"].enabled && after.xinetd["time"].enabled);
        // A batch: links, then xinetd files.
        t.script("alpha", ALPHA);
        let services = t.scan();
        let plan = services.plan(&[services.add("alpha")]).unwrap();
        apply_batch(&root, &plan, &[("echo".into(), false)]).unwrap();
        assert_eq!(t.names("alpha")[2], "2:S55alpha");
        assert!(!t.scan().xinetd["echo"].enabled);
    }

    #[test]
    fn runlevel_file() {
        let t = Tree::new();
        let root = t.root();
        assert_eq!(current_runlevel(&root), None);
        fs::create_dir_all(t.dir.path().join("run")).unwrap();
        fs::write(root.runlevel_file(), "3\n").unwrap();
        assert_eq!(current_runlevel(&root), Some(level('3')));
        fs::write(root.runlevel_file(), "N 5\n").unwrap();
        assert_eq!(current_runlevel(&root), Some(level('5')));
        fs::write(root.runlevel_file(), "junk\n").unwrap();
        assert_eq!(current_runlevel(&root), None);
    }

    #[test]
    fn no_superserver_no_signal() {
        let t = Tree::new();
        let root = t.root();
        assert_eq!(reload_superserver(&root).unwrap(), None);
        fs::create_dir_all(t.dir.path().join("run")).unwrap();
        // Our own pid: alive, but not a superserver.
        fs::write(root.pidfile("xinetd"), format!("{}\n", std::process::id())).unwrap();
        assert_eq!(reload_superserver(&root).unwrap(), None);
    }
}
