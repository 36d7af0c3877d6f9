//! Man pages and shell completions are generated from the tools' own command-line
//! definitions (each tool's `command()`), and committed: `doc/man/` and `completions/`.
//! This test generates them again and fails when the committed ones are not current.
//! `VINIT_UPDATE_GENERATED=1 cargo test --test generated` rewrites them.

use std::fs;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file, by path under the repository, with its content.
fn generate() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let top = vinit::cli::command();
    let man = |cmd: clap::Command, name: &str, invoked: &str| {
        let mut bytes = Vec::new();
        let cmd = cmd
            .display_name(name.to_string())
            .bin_name(invoked.to_string());
        clap_mangen::Man::new(cmd)
            .section("8")
            .manual("vinit")
            .source(format!("vinit {}", env!("CARGO_PKG_VERSION")))
            .render(&mut bytes)
            .unwrap();
        (PathBuf::from(format!("doc/man/{name}.8")), bytes)
    };
    out.push(man(top.clone(), "vinit", "vinit"));
    for tool in top.get_subcommands() {
        // Named vinit-TOOL: the classic pages (shutdown.8, logger.1) belong to the
        // packages of the classic tools.
        let name = tool.get_name();
        out.push(man(
            tool.clone(),
            &format!("vinit-{name}"),
            &format!("vinit {name}"),
        ));
    }
    for (shell, file) in [
        (Shell::Bash, "completions/vinit.bash"),
        (Shell::Zsh, "completions/_vinit"),
        (Shell::Fish, "completions/vinit.fish"),
    ] {
        let mut bytes = Vec::new();
        clap_complete::generate(shell, &mut top.clone(), "vinit", &mut bytes);
        out.push((PathBuf::from(file), bytes));
    }
    out
}

#[test]
fn man_pages_and_completions_are_current() {
    let update = std::env::var_os("VINIT_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    let files = generate();
    for (rel, bytes) in &files {
        let path = repo().join(rel);
        if fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if update {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
        } else {
            stale.push(rel.display().to_string());
        }
    }
    // Nothing generated earlier and no longer produced stays behind.
    for dir in ["doc/man", "completions"] {
        for entry in fs::read_dir(repo().join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let rel = Path::new(dir).join(entry.file_name());
            if !files.iter().any(|(r, _)| *r == rel) {
                if update {
                    fs::remove_file(entry.path()).unwrap();
                } else {
                    stale.push(format!("{} (no longer generated)", rel.display()));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "not current: {stale:?}; run VINIT_UPDATE_GENERATED=1 cargo test --test generated"
    );
}

#[test]
fn every_tool_has_a_page_and_the_pages_read() {
    let files = generate();
    for tool in vinit::tools::TOOLS {
        let name = format!("doc/man/vinit-{}.8", tool.name);
        let page = files
            .iter()
            .find(|(rel, _)| rel.to_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no {name}"));
        let text = String::from_utf8_lossy(&page.1);
        assert!(text.contains(".SH NAME"), "{name}");
        assert!(
            text.contains(".SH OPTIONS") || text.contains(".SH SYNOPSIS"),
            "{name}"
        );
    }
    // man(1) renders them without warnings.
    if let Ok(out) = std::process::Command::new("man")
        .args(["--warnings", "-l", "-Tutf8"])
        .arg(repo().join("doc/man/vinit-rc.8"))
        .output()
    {
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && warnings.is_empty(), "{warnings}");
    }
}

/// The Debian package (`cargo deb`, `[package.metadata.deb]` in Cargo.toml) installs a
/// link per tool under /usr/lib/vinit/sbin; dpkg owns them because they are committed as
/// symlinks in `pkg/links/`, one per tool name `vinit install-links` creates.
#[test]
fn package_links_are_current() {
    let update = std::env::var_os("VINIT_UPDATE_GENERATED").is_some();
    let dir = repo().join("pkg/links");
    // Installed as /usr/lib/vinit/sbin/NAME: three levels below /usr.
    let target = Path::new("../../../sbin/vinit");
    let names: Vec<&str> = vinit::tools::TOOLS
        .iter()
        .filter(|t| t.linked)
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect();
    let mut stale = Vec::new();
    for name in &names {
        let link = dir.join(name);
        if fs::read_link(&link).ok().as_deref() == Some(target) {
            continue;
        }
        if update {
            fs::create_dir_all(&dir).unwrap();
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink(target, &link).unwrap();
        } else {
            stale.push(name.to_string());
        }
    }
    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(&name.as_str()) {
            if update {
                fs::remove_file(entry.path()).unwrap();
            } else {
                stale.push(format!("{name} (no tool of that name)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "pkg/links not current: {stale:?}; run VINIT_UPDATE_GENERATED=1 cargo test --test generated"
    );
}
