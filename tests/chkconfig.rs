//! `chkconfig` end to end: golden outputs and errors on scratch roots holding Red
//! Hat-style and Debian-style trees, chkconfig and LSB headers, xinetd files.

mod common;
mod debian;

use common::*;
use debian::DebianCopy;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Output;

const GAMMA: &str =
    "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          gamma\n# Required-Start:    alpha\n\
# Required-Stop:     alpha\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n\
# Short-Description: gamma needs alpha\n### END INIT INFO\nexit 0\n";

const TELNET: &str =
    "# default: on\n# description: The telnet server serves telnet sessions; it uses \\\n\
#\tunencrypted username/password pairs for authentication.\n\nservice telnet\n{\n\
\tflags\t\t= REUSE\n\tsocket_type\t= stream\n\n\twait\t\t= no\n\tuser\t\t= root\n\
\tserver\t\t= /usr/sbin/in.telnetd\n\tlog_on_failure\t+= USERID\n\tdisable\t\t= yes\n}\n";

/// The example system (Red Hat layout) plus services covering every listing rule.
struct Redhat {
    root: TestRoot,
}

impl Redhat {
    fn new() -> Redhat {
        let r = Redhat {
            root: TestRoot::example_redhat(),
        };
        r.script("alpha", ALPHA);
        r.script("fifteen-chars-x", "#!/bin/sh\n# chkconfig: 3 50 50\n");
        r.script(
            "very-long-service-name",
            "#!/bin/sh\n# chkconfig: 3 50 50\n",
        );
        r.script("unlinked", "#!/bin/sh\n# chkconfig: 345 50 50\n");
        r.script("noheader", "#!/bin/sh\necho no header\n");
        r.script("broken", "#!/bin/sh\n# chkconfig: 2345 100 80\n");
        r.script("alpha.rpmsave", ALPHA);
        r.script("alpha~", ALPHA);
        r.script(".hidden", ALPHA);
        // Neither a directory nor a FIFO is a script (and opening the FIFO must not hang).
        fs::create_dir(r.root.join("etc/rc.d/init.d/subdir")).unwrap();
        nix::unistd::mkfifo(
            &r.root.join("etc/rc.d/init.d/fifo"),
            nix::sys::stat::Mode::S_IRWXU,
        )
        .unwrap();
        r.script(
            "xinetd",
            "#!/bin/sh\n# chkconfig: 345 56 50\n# description: the superserver\n",
        );
        for (level, link) in ALPHA_LINKS.into_iter().chain([
            ('3', "S50fifteen-chars-x"),
            ('3', "S50very-long-service-name"),
            ('3', "S50noheader"),
            ('3', "S50broken"),
            ('3', "S56xinetd"),
            ('4', "S56xinetd"),
            ('5', "S56xinetd"),
            ('2', "K50xinetd"),
        ]) {
            r.root.service_link(level, link);
        }
        let x = r.root.join("etc/xinetd.d");
        fs::create_dir_all(&x).unwrap();
        fs::write(x.join("telnet"), TELNET).unwrap();
        fs::write(
            x.join("echo-stream"),
            "service echo\n{\n\ttype\t\t= INTERNAL\n\tid\t\t= echo-stream\n}\n",
        )
        .unwrap();
        fs::write(x.join("tftp"), "service tftp\n{\n  disable\t=no\n}\n").unwrap();
        fs::write(x.join("chargen.rpmnew"), "service chargen\n{\n}\n").unwrap();
        fs::write(x.join("rsync~"), "service rsync\n{\n}\n").unwrap();
        r
    }

    fn script(&self, name: &str, body: &str) {
        self.root.script(name, body);
    }

    fn chkconfig(&self, args: &[&str]) -> Output {
        chkconfig(&self.root, args)
    }

    fn links(&self, service: &str) -> Vec<String> {
        self.root.links_of(service)
    }
}

fn chkconfig(root: &TestRoot, args: &[&str]) -> Output {
    root.tool("chkconfig", args)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        stderr(out)
    );
    stdout(out)
}

fn fails(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(out));
    assert!(out.stdout.is_empty(), "{}", stdout(out));
    stderr(out)
}

const LIST: &str = "alpha          \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n\
fifteen-chars-x\t0:off\t1:off\t2:off\t3:on\t4:off\t5:off\t6:off\n\
heartbeat      \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n\
spooler        \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n\
syslog         \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n\
very-long-service-name\t0:off\t1:off\t2:off\t3:on\t4:off\t5:off\t6:off\n\
xinetd         \t0:off\t1:off\t2:off\t3:on\t4:on\t5:on\t6:off\n";

const XINETD_SECTION: &str = "\nxinetd based services:\n\
\techo-stream:   \ton\n\
\ttelnet:        \toff\n\
\ttftp:          \ton\n";

#[test]
fn list_is_byte_exact() {
    let r = Redhat::new();
    let all = format!("{LIST}{XINETD_SECTION}");
    assert_eq!(ok(&r.chkconfig(&["--list"])), all);
    // No arguments at all is --list.
    assert_eq!(ok(&r.chkconfig(&[])), all);
    assert_eq!(ok(&r.chkconfig(&["--type", "sysv", "--list"])), LIST);
    assert_eq!(
        ok(&r.chkconfig(&["--list", "--type=xinetd"])),
        XINETD_SECTION
    );
}

#[test]
fn xinetd_section_only_when_the_superserver_is_on_somewhere() {
    let r = Redhat::new();
    for level in "345".chars() {
        fs::remove_file(r.root.join(&format!("etc/rc.d/rc{level}.d/S56xinetd"))).unwrap();
    }
    let expected = LIST.replace(
        "xinetd         \t0:off\t1:off\t2:off\t3:on\t4:on\t5:on\t6:off\n",
        "xinetd         \t0:off\t1:off\t2:off\t3:off\t4:off\t5:off\t6:off\n",
    );
    assert_eq!(ok(&r.chkconfig(&["--list"])), expected);
    assert_eq!(ok(&r.chkconfig(&["--list", "--type", "xinetd"])), "");
}

#[test]
fn list_one_service() {
    let r = Redhat::new();
    assert_eq!(
        ok(&r.chkconfig(&["--list", "alpha"])),
        "alpha          \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n"
    );
    assert_eq!(
        ok(&r.chkconfig(&["--list", "telnet"])),
        "telnet         \toff\n"
    );
    assert_eq!(
        ok(&r.chkconfig(&["--list", "echo-stream"])),
        "echo-stream    \ton\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--list", "unlinked"])),
        "service unlinked supports chkconfig, but is not referenced in any runlevel (run 'chkconfig --add unlinked')\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--list", "noheader"])),
        "service noheader does not support chkconfig\n"
    );
    let err = fails(&r.chkconfig(&["--list", "broken"]));
    assert!(
        err.starts_with("service broken does not support chkconfig\nchkconfig: "),
        "{err}"
    );
    assert!(
        err.contains(
            "init.d/broken:2: chkconfig: start priority \"100\" is not a number from 0 to 99"
        ),
        "{err}"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--list", "nosuch"])),
        "error reading information on service nosuch: No such file or directory\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--list", "--type", "sysv", "telnet"])),
        "error reading information on service telnet: No such file or directory\n"
    );
}

#[test]
fn json_listing() {
    let r = Redhat::new();
    let text = ok(&r.chkconfig(&["--list", "--json"]));
    assert!(text.starts_with("{\"xinetd_enabled\": true, \"services\": [\n  {\"name\": \"alpha\", \"type\": \"sysv\", \"description\": \"The alpha service on two lines.\", \"runlevels\": {\"0\": \"off\", \"1\": \"off\", \"2\": \"on\""), "{text}");
    assert!(text.contains("\"links\": {\"0\": [\"K25alpha\"]"), "{text}");
    assert!(text.contains("{\"name\": \"telnet\", \"type\": \"xinetd\", \"description\": \"The telnet server serves telnet sessions; it uses unencrypted username/password pairs for authentication.\", \"state\": \"off\"}"), "{text}");
    assert!(text.ends_with("]}\n"));
    assert_eq!(text.matches("\"name\"").count(), 10, "{text}");
    let one = ok(&r.chkconfig(&["--list", "--json", "telnet"]));
    assert!(
        one.starts_with("{\"services\": [\n  {\"name\": \"telnet\""),
        "{one}"
    );
}

#[test]
fn add_del_and_lsb_priorities() {
    let r = Redhat::new();
    r.script("gamma", GAMMA);
    assert_eq!(ok(&r.chkconfig(&["--add", "gamma"])), "");
    // Red Hat's verified case: gamma requires alpha (S55/K25) → S56/K24.
    assert_eq!(
        r.links("gamma"),
        [
            "0:K24gamma",
            "1:K24gamma",
            "2:S56gamma",
            "3:S56gamma",
            "4:S56gamma",
            "5:S56gamma",
            "6:K24gamma"
        ]
    );
    // --add takes a path and uses its basename; existing links are kept.
    ok(&r.chkconfig(&["--add", "/etc/rc.d/init.d/unlinked"]));
    assert_eq!(
        r.links("unlinked"),
        [
            "0:K50unlinked",
            "1:K50unlinked",
            "2:K50unlinked",
            "3:S50unlinked",
            "4:S50unlinked",
            "5:S50unlinked",
            "6:K50unlinked"
        ]
    );
    ok(&r.chkconfig(&["--del", "gamma"]));
    assert!(r.links("gamma").is_empty());
    // xinetd services: nothing to do, success.
    ok(&r.chkconfig(&["--add", "telnet"]));
    ok(&r.chkconfig(&["--del", "telnet"]));
    assert_eq!(
        fails(&r.chkconfig(&["--add", "noheader"])),
        "service noheader does not support chkconfig\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--del", "nosuch"])),
        "error reading information on service nosuch: No such file or directory\n"
    );
}

#[test]
fn on_off_reset_resetpriorities() {
    let r = Redhat::new();
    ok(&r.chkconfig(&["alpha", "off"]));
    assert_eq!(
        r.links("alpha"),
        [
            "0:K25alpha",
            "1:K25alpha",
            "2:K25alpha",
            "3:K25alpha",
            "4:K25alpha",
            "5:K25alpha",
            "6:K25alpha"
        ]
    );
    ok(&r.chkconfig(&["--level", "35", "alpha", "on"]));
    assert_eq!(r.links("alpha")[3], "3:S55alpha");
    assert_eq!(r.links("alpha")[2], "2:K25alpha");
    ok(&r.chkconfig(&["--level=0", "alpha", "on"]));
    ok(&r.chkconfig(&["alpha", "reset"]));
    assert_eq!(
        r.links("alpha"),
        [
            "0:K25alpha",
            "1:K25alpha",
            "2:S55alpha",
            "3:S55alpha",
            "4:S55alpha",
            "5:S55alpha",
            "6:K25alpha"
        ]
    );
    // resetpriorities keeps on/off, restores the header's numbers.
    fs::rename(
        r.root.join("etc/rc.d/rc3.d/S55alpha"),
        r.root.join("etc/rc.d/rc3.d/S99alpha"),
    )
    .unwrap();
    fs::rename(
        r.root.join("etc/rc.d/rc0.d/K25alpha"),
        r.root.join("etc/rc.d/rc0.d/K01alpha"),
    )
    .unwrap();
    ok(&r.chkconfig(&["alpha", "resetpriorities"]));
    assert_eq!(r.links("alpha")[3], "3:S55alpha");
    assert_eq!(r.links("alpha")[0], "0:K25alpha");
    // --levels is popt's alias; a bad level list is a usage error.
    ok(&r.chkconfig(&["alpha", "--levels", "4", "off"]));
    assert_eq!(r.links("alpha")[4], "4:K25alpha");
    let err = fails(&r.chkconfig(&["--level", "8", "alpha", "on"]));
    assert!(
        err.contains("usage:   chkconfig [--list] [--type <type>] [name]"),
        "{err}"
    );
}

#[test]
fn off_keeps_lsb_dependencies() {
    let r = Redhat::new();
    r.script("gamma", GAMMA);
    ok(&r.chkconfig(&["--add", "gamma"]));
    ok(&r.chkconfig(&["gamma", "off"]));
    // Red Hat's `off` relinks at K50, forgetting alpha; here gamma still stops first.
    assert_eq!(r.links("gamma")[2], "2:K24gamma");
    ok(&r.chkconfig(&["gamma", "on"]));
    assert_eq!(r.links("gamma")[2], "2:S56gamma");
}

#[test]
fn query_exit_status() {
    let r = Redhat::new();
    let q = |args: &[&str]| r.chkconfig(args).status.code();
    assert_eq!(q(&["--level", "3", "alpha"]), Some(0));
    assert_eq!(q(&["--level", "1", "alpha"]), Some(1));
    assert_eq!(q(&["--level", "3", "nosuch"]), Some(1));
    assert_eq!(q(&["--level", "3", "noheader"]), Some(1));
    let out = r.chkconfig(&["--level", "35", "alpha"]);
    assert_eq!(
        fails(&out),
        "only one runlevel may be specified for a chkconfig query\n"
    );
    // Without --level: the current runlevel, from run/runlevel.
    let out = r.chkconfig(&["alpha"]);
    assert_eq!(fails(&out), "cannot determine current run level\n");
    fs::create_dir_all(r.root.join("run")).unwrap();
    fs::write(r.root.join("run/runlevel"), "3\n").unwrap();
    let out = r.chkconfig(&["alpha"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    fs::write(r.root.join("run/runlevel"), "1\n").unwrap();
    assert_eq!(q(&["alpha"]), Some(1));
    // xinetd services: on if the file says so and the superserver runs in the level.
    assert_eq!(q(&["--level", "3", "tftp"]), Some(0));
    assert_eq!(q(&["--level", "2", "tftp"]), Some(1));
    assert_eq!(q(&["--level", "3", "telnet"]), Some(1));
}

#[test]
fn command_line_errors() {
    let r = Redhat::new();
    for args in [
        vec!["--list", "a", "b"],
        vec!["--add"],
        vec!["--add", "a", "b"],
        vec!["alpha", "sideways"],
        vec!["--level", "3"],
    ] {
        let err = fails(&r.chkconfig(&args));
        assert!(
            err.starts_with("chkconfig version 1.3.49"),
            "{args:?}: {err}"
        );
        assert!(err.contains("         chkconfig --add <name>\n"), "{err}");
    }
    assert_eq!(
        fails(&r.chkconfig(&["--add", "--del", "alpha"])),
        "only one of --list, --add, --del, or --override may be specified\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--type", "inetd", "--list"])),
        "--type must be 'sysv' or 'xinetd'\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["--frobnicate"])),
        "--frobnicate: unknown option\n"
    );
    assert_eq!(
        fails(&r.chkconfig(&["alpha", "on", "--level"])),
        "--level: missing argument\n"
    );
    let out = r.chkconfig(&["--version"]);
    assert_eq!(
        ok(&out),
        format!(
            "chkconfig version 1.3.49 (vinit {})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let help = ok(&r.chkconfig(&["--help"]));
    assert!(help.contains("<on|off|reset|resetpriorities>"));
}

#[test]
fn names_with_slashes_or_dots_are_refused() {
    let r = Redhat::new();
    fs::write(r.root.join("etc/rc.d/victim"), "# chkconfig: 2345 1 1\n").unwrap();
    for name in ["../victim", "..", "a/../../alpha"] {
        let err = fails(&r.chkconfig(&[name, "on"]));
        assert_eq!(
            err,
            format!("error reading information on service {name}: No such file or directory\n")
        );
    }
    // --add/--del use the basename of what they are given.
    let err = fails(&r.chkconfig(&["--add", "/x/../.."]));
    assert!(
        err.starts_with("error reading information on service"),
        "{err}"
    );
    assert!(r.links("victim").is_empty());
}

#[test]
fn changing_links_needs_write_access() {
    let r = Redhat::new();
    // Let an unprivileged user read (not write) the tree.
    fs::set_permissions(r.root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let run_as_nobody = |args: &[&str]| {
        let mut cmd = vinit_cmd();
        cmd.arg("--root")
            .arg(r.root.path())
            .arg("chkconfig")
            .args(args);
        cmd.uid(65534).gid(65534);
        cmd.output().unwrap()
    };
    let denied = "You do not have enough privileges to perform this operation.\n";
    assert_eq!(fails(&run_as_nobody(&["alpha", "off"])), denied);
    assert_eq!(fails(&run_as_nobody(&["--add", "unlinked"])), denied);
    assert_eq!(fails(&run_as_nobody(&["--del", "alpha"])), denied);
    assert_eq!(fails(&run_as_nobody(&["telnet", "on"])), denied);
    // The service is read first: its errors come before the privilege check.
    assert_eq!(
        fails(&run_as_nobody(&["nosuch", "on"])),
        "error reading information on service nosuch: No such file or directory\n"
    );
    // Reading needs no privilege.
    assert_eq!(ok(&run_as_nobody(&["--list", "alpha"])).len(), 54);
    assert_eq!(r.links("alpha")[2], "2:S55alpha");
}

#[test]
fn xinetd_on_off_edits_only_disable_and_reloads_the_superserver() {
    let r = Redhat::new();
    let file = r.root.join("etc/xinetd.d/telnet");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let mut superserver = FakeSuperserver::start(&r.root);
    ok(&r.chkconfig(&["telnet", "on"]));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        TELNET.replace("\tdisable\t\t= yes", "\tdisable\t\t= no")
    );
    assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o640);
    assert!(wait_until(10, || superserver.hups() == "hup\n"));
    assert_eq!(
        ok(&r.chkconfig(&["--list", "telnet"])),
        "telnet         \ton\n"
    );

    // No change, no reload.
    ok(&r.chkconfig(&["telnet", "on"]));
    ok(&r.chkconfig(&["--level", "3", "telnet", "off"]));
    assert_eq!(fs::read_to_string(&file).unwrap(), TELNET);
    assert!(wait_until(10, || superserver.hups() == "hup\nhup\n"));
    // reset: back to `# default: on`.
    ok(&r.chkconfig(&["telnet", "reset"]));
    assert!(fs::read_to_string(&file)
        .unwrap()
        .contains("\tdisable\t\t= no\n"));
    // A file without a disable line gets one, laid out like its neighbours.
    ok(&r.chkconfig(&["echo-stream", "off"]));
    assert_eq!(
        fs::read_to_string(r.root.join("etc/xinetd.d/echo-stream")).unwrap(),
        "service echo\n{\n\ttype\t\t= INTERNAL\n\tid\t\t= echo-stream\n\tdisable\t\t= yes\n}\n"
    );
    superserver.stop();
    // A stale pidfile (no such process) is not an error.
    ok(&r.chkconfig(&["tftp", "off"]));
    assert!(fs::read_to_string(r.root.join("etc/xinetd.d/tftp"))
        .unwrap()
        .contains("  disable\t=yes\n"));
    let names: Vec<String> = fs::read_dir(r.root.join("etc/xinetd.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 5, "no temporary file left: {names:?}");
}

#[test]
fn override_files() {
    let r = Redhat::new();
    r.script("web", "#!/bin/sh\n# chkconfig: 345 20 80\n");
    ok(&r.chkconfig(&["--add", "web"]));
    let d = r.root.join("etc/chkconfig.d");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("web"), "# chkconfig: 2345 30 70\n").unwrap();
    ok(&r.chkconfig(&["--override", "web"]));
    assert_eq!(
        r.links("web"),
        ["0:K70web", "1:K70web", "2:S30web", "3:S30web", "4:S30web", "5:S30web", "6:K70web"]
    );
    // Changed by hand since: --override leaves it alone.
    fs::write(d.join("web"), "# chkconfig: 5 40 60\n").unwrap();
    ok(&r.chkconfig(&["--override", "web"]));
    assert_eq!(r.links("web")[2], "2:S30web");
    // No override file, unknown service: silent success, as Red Hat's.
    assert_eq!(ok(&r.chkconfig(&["--override", "alpha"])), "");
    assert_eq!(ok(&r.chkconfig(&["--override", "nosuch"])), "");
    // An override without a chkconfig line never makes S-1 links.
    fs::write(
        d.join("alpha"),
        "### BEGIN INIT INFO\n# Default-Start: 3\n### END INIT INFO\n",
    )
    .unwrap();
    ok(&r.chkconfig(&["alpha", "reset"]));
    assert_eq!(
        r.links("alpha"),
        [
            "0:K25alpha",
            "1:K25alpha",
            "2:K25alpha",
            "3:S55alpha",
            "4:K25alpha",
            "5:K25alpha",
            "6:K25alpha"
        ]
    );
}

#[test]
fn dependency_cycles_and_missing_requirements_are_reported() {
    let r = TestRoot::debian();
    let lsb = |provides: &str, requires: &str| {
        format!(
            "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: {provides}\n# Required-Start: {requires}\n\
             # Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n"
        )
    };
    r.script("a", &lsb("a", "c"));
    r.script("b", &lsb("b", "a"));
    r.script("c", &lsb("c", "b"));
    ok(&chkconfig(&r, &["--add", "a"]));
    ok(&chkconfig(&r, &["--add", "b"]));
    let err = fails(&chkconfig(&r, &["--add", "c"]));
    assert!(err.starts_with("chkconfig: dependency cycle: "), "{err}");
    for step in ["c starts after b", "b starts after a", "a starts after c"] {
        assert!(err.contains(step), "{err}");
    }
    assert!(r.links_of("c").is_empty());

    r.script("app", &lsb("app", "ghost $network"));
    let out = chkconfig(&r, &["--add", "app"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "chkconfig: warning: service app requires ghost, which is not installed\n"
    );
    assert_eq!(r.links_of("app")[2], "2:S50app");
}

#[test]
fn debian_layout_and_facilities_from_insserv_conf() {
    let r = TestRoot::debian();
    r.script(
        "networking",
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: networking\n# Default-Start: S\n# Default-Stop: 0 6\n### END INIT INFO\n",
    );
    r.script(
        "web",
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: web\n# Required-Start: $network $remote_fs\n\
         # Required-Stop: $network\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n",
    );
    fs::write(
        r.join("etc/insserv.conf"),
        "# facilities\n$network +networking\n$remote_fs $local_fs\n",
    )
    .unwrap();
    r.link('S', "S40networking", "../init.d/networking");
    r.link('0', "K60networking", "../init.d/networking");
    r.link('6', "K60networking", "../init.d/networking");
    ok(&chkconfig(&r, &["--add", "web"]));
    assert_eq!(
        r.links_of("web"),
        ["0:K50web", "1:K50web", "2:S50web", "3:S50web", "4:S50web", "5:S50web", "6:K50web"]
    );
    // web must stop before networking: K50 < K60 holds. Move networking earlier.
    fs::rename(
        r.join("etc/rc0.d/K60networking"),
        r.join("etc/rc0.d/K10networking"),
    )
    .unwrap();
    ok(&chkconfig(&r, &["web", "resetpriorities"]));
    assert_eq!(r.links_of("web")[0], "0:K09web");
    // The listing shows levels 0-6 only.
    assert_eq!(
        ok(&chkconfig(&r, &["--list", "networking"])),
        "networking     \t0:off\t1:off\t2:off\t3:off\t4:off\t5:off\t6:off\n"
    );
}

#[test]
fn global_root_option_and_environment() {
    let r = Redhat::new();
    let out = vinit_cmd()
        .args(["chkconfig", "--list", "alpha"])
        .env("VINIT_ROOT", r.root.path())
        .output()
        .unwrap();
    assert_eq!(
        ok(&out),
        "alpha          \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n"
    );
    let out = vinit_cmd()
        .args(["chkconfig", "--root"])
        .arg(r.root.path())
        .args(["--list", "alpha"])
        .output()
        .unwrap();
    assert_eq!(ok(&out).len(), 54);
    let out = r.root.tool_root_eq("chkconfig", &["--list", "alpha"]);
    assert_eq!(ok(&out).len(), 54);
}

#[test]
fn a_root_without_init_d() {
    let dir = tempfile::tempdir().unwrap();
    let out = vinit_cmd()
        .arg("--root")
        .arg(dir.path())
        .args(["chkconfig", "--list"])
        .output()
        .unwrap();
    assert_eq!(
        fails(&out),
        format!(
            "failed to open {}/etc/init.d: No such file or directory\n",
            dir.path().display()
        )
    );
}

/// A regular file carrying a link's name is not a service's link: chkconfig neither
/// lists it, nor takes it for the service's link, nor deletes the real one.
#[test]
fn a_stray_file_with_a_link_name_is_not_the_services_link() {
    let r = TestRoot::debian();
    r.script("a", "#!/bin/sh\n# chkconfig: 2345 40 60\n");
    ok(&chkconfig(&r, &["--add", "a"]));
    fs::write(r.join("etc/rc2.d/S56a"), "a stray file\n").unwrap();
    // A link elsewhere with such a name is no link of the service either.
    symlink("/bin/true", r.join("etc/rc3.d/K10a")).unwrap();
    ok(&chkconfig(&r, &["a", "on"]));
    assert_eq!(
        r.links_of("a"),
        [
            "0:K60a", "1:K60a", "2:S40a", "2:S56a", "3:K10a", "3:S40a", "4:S40a", "5:S40a",
            "6:K60a"
        ]
    );
    assert_eq!(
        ok(&chkconfig(&r, &["--list", "a"])),
        "a              \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n"
    );
    ok(&chkconfig(&r, &["--level", "2", "a", "off"]));
    assert!(r.join("etc/rc2.d/K60a").exists());
    assert_eq!(r.read("etc/rc2.d/S56a"), "a stray file\n");
    ok(&chkconfig(&r, &["--del", "a"]));
    assert_eq!(r.links_of("a"), ["2:S56a", "3:K10a"]);
}

/// A journal entry that no replay could honour — a name with `/` (a link outside the
/// root), a level without rc directory — is dropped and reported by the next call, even
/// `--list`; the rest of the change is finished and later changes go through.
#[test]
fn impossible_journal_entries_are_dropped_and_reported() {
    let r = TestRoot::debian();
    r.script("a", "#!/bin/sh\n# chkconfig: 2345 40 60\n");
    fs::write(
        r.join("etc/init.d/.vinit-links.journal"),
        "vinit-links 1\n\
         create 3 ../../../escaped ../init.d/a\n\
         create 7 S40a ../init.d/a\n\
         create 2 S40a ../init.d/a\n\
         end\n",
    )
    .unwrap();
    let out = chkconfig(&r, &["--list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let journal = r.join("etc/init.d/.vinit-links.journal");
    assert_eq!(
        stderr(&out),
        format!(
            "chkconfig: {j}: line 2: \"create 3 ../../../escaped ../init.d/a\": \"../../../escaped\" is not a link name: dropped\n\
             chkconfig: {j}: {rc7}: No such file or directory: dropped\n",
            j = journal.display(),
            rc7 = r.join("etc/rc7.d").display()
        )
    );
    assert!(!r.path().join("escaped").exists() && !r.join("escaped").exists());
    assert!(!journal.exists());
    assert_eq!(r.links_of("a"), ["2:S40a"]);
    ok(&chkconfig(&r, &["--add", "a"]));
    assert_eq!(r.links_of("a").len(), 7);
}

/// Configuration files are opened without blocking and must be regular files: a FIFO
/// as insserv.conf, in insserv.conf.d, as an override or as the journal never hangs.
#[test]
fn fifos_as_configuration_files_never_hang() {
    let r = TestRoot::debian();
    r.script(
        "web",
        "#!/bin/sh\n### BEGIN INIT INFO\n# Required-Start: $network\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n",
    );
    let fifo = |rel: &str| {
        fs::create_dir_all(r.join(rel).parent().unwrap()).unwrap();
        nix::unistd::mkfifo(&r.join(rel), nix::sys::stat::Mode::S_IRWXU).unwrap();
    };
    fifo("etc/insserv.conf");
    fifo("etc/insserv.conf.d/extra");
    fifo("etc/chkconfig.d/web");
    let out = std::process::Command::new("timeout")
        .arg("20")
        .arg(VINIT)
        .arg("--root")
        .arg(r.path())
        .args(["chkconfig", "--add", "web"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stderr(&out),
        format!(
            "chkconfig: {}: not a regular file\n",
            r.join("etc/chkconfig.d/web").display()
        )
    );
    assert_eq!(r.links_of("web")[2], "2:S50web");
    fifo("etc/init.d/.vinit-links.journal");
    let out = std::process::Command::new("timeout")
        .arg("20")
        .arg(VINIT)
        .arg("--root")
        .arg(r.path())
        .args(["chkconfig", "--list", "web"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains(".vinit-links.journal: not a regular file"),
        "{out:?}"
    );
}

const WEB: &str = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          web\n\
# Required-Start:    $remote_fs $syslog\n# Required-Stop:     $remote_fs $syslog\n\
# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n# Short-Description: web\n\
### END INIT INFO\nexit 0\n";

/// On a stock Debian tree the providers of `$remote_fs` and `$time` run in rcS.d (so in
/// every level) and nothing installed provides `$syslog`: turning on the stock services
/// or a new one requiring them warns about nothing, and moves no other link. A
/// dependency that is really missing or off still warns.
#[test]
fn a_stock_debian_tree_gives_no_false_warnings() {
    let d = DebianCopy::new();
    let run = |args: &[&str]| {
        vinit_cmd()
            .arg("--root")
            .arg(d.root())
            .args(args)
            .output()
            .unwrap()
    };
    let before = d.links();
    for name in ["cron", "ssh", "xinetd"] {
        let out = run(&["chkconfig", name, "on"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "chkconfig {name} on");
        let out = run(&["update-rc.d", name, "defaults"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "update-rc.d {name} defaults");
    }
    assert_eq!(
        d.links(),
        before,
        "the stock links stay as insserv made them"
    );
    d.script("web", WEB);
    let out = run(&["chkconfig", "--add", "web"]);
    assert_eq!(stderr(&out), "");
    assert!(d.etc("rc2.d/S01web").exists(), "{:?}", d.links());
    d.script("web2", &WEB.replace("web", "web2"));
    let out = run(&["update-rc.d", "web2", "defaults"]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    // Real problems still show.
    d.script(
        "app",
        &WEB.replace("Provides:          web", "Provides:          app")
            .replace("$remote_fs $syslog", "$remote_fs cron ghost"),
    );
    assert!(run(&["chkconfig", "--level", "3", "cron", "off"])
        .status
        .success());
    let out = run(&["chkconfig", "--add", "app"]);
    assert_eq!(
        stderr(&out),
        "chkconfig: warning: service app requires cron, which is off in runlevel 3\n\
         chkconfig: warning: service app requires ghost, which is not installed\n"
    );
}
