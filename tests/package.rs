//! The Debian package, as `cargo deb` builds it from `[package.metadata.deb]`, installed
//! into the stock Debian bookworm tree by that tree's own dpkg: it installs beside
//! sysvinit without a file conflict, every tool runs under its name, the man pages and
//! completions are where man and the shells look, and removing it leaves nothing behind.
//!
//! The package is built from the binary under test (placed where cargo-deb looks for
//! the release build, in a scratch target directory), so no release build is needed.
//! The tree is never written: it is the lower layer of an overlay whose upper layer is
//! a scratch directory.

mod common;
mod debian;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cache_dir, repo, stderr, stdout, VINIT};

/// cargo-deb as `scripts/fetch/cargo-deb` provides it: on PATH or in the cache.
fn cargo_deb() -> PathBuf {
    let cached = cache_dir().join("tools/bin/cargo-deb");
    if cached.is_file() {
        return cached;
    }
    let on_path = std::env::var_os("PATH").map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("cargo-deb"))
            .find(|f| f.is_file())
    });
    on_path.flatten().unwrap_or_else(|| {
        panic!("cargo-deb is missing: run scripts/fetch/cargo-deb (scripts/test does) before the tests")
    })
}

/// Builds the package from the binary under test into `scratch`.
fn build_package(scratch: &Path) -> PathBuf {
    let target = scratch.join("target");
    fs::create_dir_all(target.join("release")).unwrap();
    fs::copy(VINIT, target.join("release/vinit")).unwrap();
    let deb = scratch.join("vinit.deb");
    let out = Command::new(cargo_deb())
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &target)
        .args(["--no-build", "--no-strip", "--fast", "--quiet", "--output"])
        .arg(&deb)
        .output()
        .expect("run cargo-deb");
    assert!(out.status.success(), "cargo-deb: {}", stderr(&out));
    deb
}

/// The Debian tree under an overlay whose upper layer persists in `scratch/upper`.
struct Overlay {
    scratch: PathBuf,
}

impl Overlay {
    fn new(scratch: &Path) -> Overlay {
        for dir in ["upper", "work", "root"] {
            fs::create_dir_all(scratch.join(dir)).unwrap();
        }
        Overlay {
            scratch: scratch.to_path_buf(),
        }
    }

    /// Runs `argv` chrooted in the tree (the overlay mounted in a private mount namespace
    /// for this one command), as root with a clean environment.
    fn run(&self, argv: &[&str]) -> Output {
        const SETUP: &str = r#"set -e
lower=$1 upper=$2 work=$3 root=$4
shift 4
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
exec chroot "$root" "$@"
"#;
        Command::new("unshare")
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C")
            .args(["--mount", "--propagation", "private"])
            .args(["sh", "-c", SETUP, "sh"])
            .arg(debian::bookworm())
            .arg(self.scratch.join("upper"))
            .arg(self.scratch.join("work"))
            .arg(self.scratch.join("root"))
            .args(argv)
            .output()
            .expect("run unshare")
    }

    fn ok(&self, argv: &[&str]) -> String {
        let out = self.run(argv);
        assert!(
            out.status.success(),
            "{argv:?}: {:?}\n{}{}",
            out.status,
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }
}

#[test]
fn the_package_installs_into_debian_beside_sysvinit_and_removes_cleanly() {
    let scratch = tempfile::tempdir().unwrap();
    let deb = build_package(scratch.path());
    let tree = Overlay::new(scratch.path());
    fs::copy(&deb, scratch.path().join("upper/vinit.deb")).unwrap();

    // bookworm's own dpkg: no conflict with a file of sysvinit-core, sysv-rc,
    // init-system-helpers or any other installed package.
    tree.ok(&["dpkg", "-i", "/vinit.deb"]);
    let files = tree.ok(&["dpkg", "-L", "vinit"]);
    for path in [
        "/usr/sbin/vinit",
        "/usr/sbin/chkconfig",
        "/usr/lib/vinit/sbin/init",
        "/usr/lib/vinit/sbin/update-rc.d",
        "/usr/lib/vinit/sbin/start-stop-daemon",
        "/usr/share/man/man8/vinit.8.gz",
        "/usr/share/man/man8/vinit-chkconfig.8.gz",
        "/usr/share/bash-completion/completions/vinit",
        "/usr/share/zsh/vendor-completions/_vinit",
        "/usr/share/fish/vendor_completions.d/vinit.fish",
        "/usr/share/doc/vinit/examples/inittab",
        "/usr/share/doc/vinit/examples/init.d/heartbeat",
        "/usr/share/doc/vinit/copyright",
    ] {
        assert!(files.lines().any(|l| l == path), "{path} not in:\n{files}");
    }
    // The distribution's own tools stay the distribution's.
    let owner = tree.ok(&["dpkg", "-S", "/sbin/init"]);
    assert!(owner.starts_with("sysvinit-core:"), "{owner}");

    // The tools, by their names, on the tree's own services.
    let list = tree.ok(&["chkconfig", "--list", "cron"]);
    assert!(list.starts_with("cron"), "{list}");
    assert!(list.contains("2:on"), "{list}");
    let version = tree.ok(&["vinit", "--version"]);
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let usage = tree.ok(&["/usr/lib/vinit/sbin/init", "--help"]);
    assert!(usage.contains("init [--root DIR]"), "{usage}");
    let ssd = tree.run(&[
        "/usr/lib/vinit/sbin/start-stop-daemon",
        "--status",
        "--pidfile",
        "/run/nothing.pid",
    ]);
    // dpkg's answer for a service whose pidfile does not exist: 3, not running.
    assert_eq!(ssd.status.code(), Some(3), "{}", stderr(&ssd));
    // The man page reads (the tree has no man-db: its groff-free check is the header).
    let page = tree.ok(&[
        "sh",
        "-c",
        "gzip -dc /usr/share/man/man8/vinit-chkconfig.8.gz",
    ]);
    assert!(page.contains(".TH vinit-chkconfig 8"), "{page}");

    // Removed, nothing of it stays, and the tree's dpkg database is consistent.
    tree.ok(&["dpkg", "-r", "vinit"]);
    let left = tree.ok(&[
        "sh",
        "-c",
        "ls -d /usr/sbin/vinit /usr/sbin/chkconfig /usr/lib/vinit /usr/share/doc/vinit \
         /usr/share/man/man8/vinit.8.gz 2>/dev/null; true",
    ]);
    assert_eq!(left, "", "left behind after dpkg -r");
    assert_eq!(tree.ok(&["dpkg", "--audit"]), "");
}
