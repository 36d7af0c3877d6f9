//! The stock Debian system that `scripts/fetch/debian-tree` builds (bookworm with
//! sysvinit-core, cron, openssh-server, xinetd), and running Debian's own tools on a
//! scratch copy of it, side by side with vinit's.
//!
//! The cached tree is never written: each test works on a copy of its `etc` (all that
//! the rc tools read or change). Debian's tools run in a chroot that is the cached
//! tree bound read-only in a private mount namespace, with the copy bound on its
//! `/etc` (and a private `/run`); vinit's run in the very same arrangement, its binary
//! bound over the Debian tool it replaces — same root `/`, same paths, same output.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{cache_dir, copy_tree, VINIT};

/// The cached tree, or a failure saying how to build it (never a skip).
pub fn bookworm() -> PathBuf {
    let tree = cache_dir().join("bookworm");
    let stamp = cache_dir().join("bookworm.stamp");
    assert!(
        tree.join("etc/init.d").is_dir() && stamp.is_file(),
        "the Debian tree {} is missing or incomplete: run scripts/fetch/debian-tree (scripts/test does) before the tests",
        tree.display()
    );
    tree
}

/// Who runs a command in the chroot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    Root,
    /// `nobody`: what an unprivileged caller sees.
    Nobody,
}

/// A scratch copy of the Debian tree's `etc`, removed when dropped.
pub struct DebianCopy {
    pub dir: tempfile::TempDir,
}

impl DebianCopy {
    pub fn new() -> DebianCopy {
        let tree = bookworm();
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(&tree.join("etc"), &dir.path().join("etc"));
        fs::create_dir(dir.path().join("mnt")).unwrap();
        DebianCopy { dir }
    }

    /// The copy as a root for `vinit --root`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn etc(&self, rel: &str) -> PathBuf {
        self.dir.path().join("etc").join(rel)
    }

    /// Writes an executable script into the copy's `init.d`.
    pub fn script(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.etc("init.d").join(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs `argv` (paths inside the tree) in the chroot, as `user`. With `vinit_as`,
    /// vinit's binary is bound over that path of the tree first (so `update-rc.d` or
    /// `service` there is vinit's).
    pub fn run(&self, user: User, vinit_as: Option<&str>, argv: &[&str]) -> Output {
        self.command(user, vinit_as, argv)
            .output()
            .expect("run unshare")
    }

    pub fn command(&self, user: User, vinit_as: Option<&str>, argv: &[&str]) -> Command {
        const SETUP: &str = r#"set -e
tree=$1 mnt=$2 etc=$3 vinit=$4 as=$5 user=$6
shift 6
mount --bind "$tree" "$mnt"
mount -o remount,bind,ro "$mnt"
mount --bind "$etc" "$mnt/etc"
mount -t tmpfs -o mode=0755 tmpfs "$mnt/run"
mount -t proc proc "$mnt/proc"
[ -z "$as" ] || mount --bind "$vinit" "$mnt$as"
exec chroot --userspec="$user" "$mnt" "$@"
"#;
        let mut cmd = Command::new("unshare");
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C")
            .args(["--mount", "--propagation", "private", "--pid", "--fork"])
            .args(["sh", "-c", SETUP, "sh"])
            .arg(bookworm())
            .arg(self.dir.path().join("mnt"))
            .arg(self.dir.path().join("etc"))
            .arg(VINIT)
            .arg(vinit_as.unwrap_or(""))
            .arg(match user {
                User::Root => "0:0",
                User::Nobody => "65534:65534",
            })
            .args(argv);
        cmd
    }

    /// Every rc link of the copy, `rcN.d/NAME -> TARGET`, sorted.
    pub fn links(&self) -> Vec<String> {
        let mut out = Vec::new();
        for level in "0123456S".chars() {
            let dir = self.etc(&format!("rc{level}.d"));
            let Ok(listing) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let target = fs::read_link(entry.path())
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "(file)".into());
                out.push(format!("rc{level}.d/{name} -> {target}"));
            }
        }
        out.sort();
        out
    }
}
