//! Real systems that nobody here wrote, booted by vinit: the stock Debian bookworm tree
//! of `scripts/fetch/debian-tree` in private namespaces on an overlay (`scripts/nsboot`),
//! and the same tree and a busybox tree in a QEMU virtual machine (`scripts/vmboot`).
//! The harnesses do the booting, the hazard mitigations and the checks; these tests run
//! them with this build of vinit and read their reports. Run as root (CI is).

mod common;

use common::*;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The `key=value` lines a harness prints, and its exit status.
struct Report {
    values: HashMap<String, String>,
    text: String,
    success: bool,
}

impl Report {
    fn run(script: &str, args: &[&str]) -> Report {
        let out = Command::new(repo().join("scripts").join(script))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("scripts/{script}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let values = stdout
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Report {
            values,
            text: format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)),
            success: out.status.success(),
        }
    }

    fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    fn assert_ok(&self) {
        assert!(
            self.success && self.get("result") == "ok",
            "the harness failed:\n{}",
            self.text
        );
    }
}

/// Boots the Debian tree with vinit as /sbin/init in namespaces, checks its services,
/// shuts it down with the tree's own `telinit 0`; returns the report and the scratch
/// directory (console log, overlay upper layer).
fn boot_debian_in_namespaces(rc: &str) -> (Report, tempfile::TempDir) {
    let scratch = tempfile::tempdir().unwrap();
    let keep = scratch.path().join("boot");
    let report = Report::run(
        "nsboot",
        &[
            "--init",
            "vinit",
            "--vinit",
            VINIT,
            "--rc",
            rc,
            "--keep",
            keep.to_str().unwrap(),
            "--check",
            "service cron status",
            "--check",
            "service ssh status",
            "--check",
            "service xinetd status",
        ],
    );
    (report, scratch)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_debian_tree_boots_and_shuts_down_under_vinit_with_debians_rc() {
    let (report, scratch) = boot_debian_in_namespaces("debian");
    report.assert_ok();
    assert_eq!(report.get("runlevel"), "N 2", "{}", report.text);
    for check in [
        "service cron status",
        "service ssh status",
        "service xinetd status",
    ] {
        assert_eq!(
            report.get(&format!("check:{check}")),
            "0",
            "{}",
            report.text
        );
    }
    assert_eq!(report.get("zombies"), "0");
    assert_eq!(report.get("pid1_comm"), "init");
    // The tree's own telinit reached init although mountkernfs.sh hid /run/initctl
    // under a tmpfs, and the shutdown ran to its end.
    assert_eq!(report.get("telinit"), "0", "{}", report.text);
    assert_eq!(report.get("left_running"), "0");
    let console = read(&scratch.path().join("boot/console.log"));
    assert!(console.contains("Will now halt"), "{console}");
}

#[test]
fn the_debian_tree_boots_and_shuts_down_under_vinit_with_vinits_rc() {
    let (report, scratch) = boot_debian_in_namespaces("vinit");
    report.assert_ok();
    assert_eq!(report.get("runlevel"), "N 2", "{}", report.text);
    assert_eq!(report.get("zombies"), "0");
    assert_eq!(report.get("left_running"), "0");
    // rc 0 survived sendsigs' killall5 and ran every script up to the halt (which
    // ends the namespace at once: what rc writes after it may or may not get out).
    let log = read(&scratch.path().join("boot/upper/var/log/boot.log"));
    for script in [
        "Stopping sendsigs: [  OK  ]",
        "Stopping umountfs: [  OK  ]",
        "Will now halt.",
    ] {
        assert!(log.contains(script), "{script} missing:\n{log}");
    }
}

/// Boots a tree in QEMU (software emulation) with this vinit as /sbin/init, to its
/// default runlevel and then off through `telinit 0`.
fn boot_vm(tree: &str, rc: &str) -> Report {
    Report::run(
        "vmboot",
        &[
            "--tree",
            tree,
            "--init",
            "vinit",
            "--vinit",
            VINIT,
            "--rc",
            rc,
            "--timeout",
            "300",
        ],
    )
}

#[test]
fn a_busybox_vm_boots_and_powers_off_under_vinit() {
    let report = boot_vm("busybox", "vinit");
    report.assert_ok();
    assert_ne!(report.get("poweroff_uptime"), "none", "{}", report.text);
}

#[test]
fn the_debian_tree_boots_and_powers_off_in_a_vm_under_vinit() {
    // With a probe that records what init hands the boot and shutdown scripts.
    let scratch = tempfile::tempdir().unwrap();
    let keep = scratch.path().join("vm");
    let report = Report::run(
        "vmboot",
        &[
            "--tree",
            "debian",
            "--init",
            "vinit",
            "--vinit",
            VINIT,
            "--probe",
            "--keep",
            keep.to_str().unwrap(),
            "--timeout",
            "300",
        ],
    );
    report.assert_ok();
    assert_eq!(report.get("runlevel"), "2", "{}", report.text);
    assert_ne!(report.get("poweroff_uptime"), "none", "{}", report.text);
    let console = read(Path::new(report.get("console")));
    let probe = |level: &str, what: &str| -> String {
        let prefix = format!("VMPROBE[{level}:");
        console
            .lines()
            .map(str::trim_end)
            .find(|l| l.starts_with(&prefix) && l.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} from the probe of {level}:\n{console}"))
            .to_string()
    };
    // As under sysvinit: the boot scripts have the console as their terminal; /sys is
    // there for mountkernfs.sh to mount securityfs on; the shutdown scripts get a sane
    // console even after a getty left it raw (stty -g: iflag d04, lflag a1b).
    let line = probe("S", "== controlling terminal");
    assert!(line.ends_with("yes"), "{line}");
    assert!(!console.contains("Mount point '/sys/kernel/security' does not exist"));
    let line = probe("2", "== /sys:");
    assert!(line.ends_with("present"), "{line}");
    let termios = probe("0", "== stdin termios");
    let modes: Vec<&str> = termios.rsplit(' ').next().unwrap().split(':').collect();
    assert_eq!((modes[0], modes[3]), ("d04", "a1b"), "{termios}");
}
