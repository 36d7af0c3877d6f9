//! `service` end to end: the environment and directory scripts get, exit statuses and
//! output passed through, the special forms, the errors.

mod common;
mod debian;

use common::*;
use debian::{DebianCopy, User};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

fn service(root: &TestRoot, args: &[&str]) -> Output {
    root.tool("service", args)
}

/// A script that prints what it was given, where it runs and its environment.
const PROBE: &str =
    "#!/bin/sh\necho \"args:$#:$*\"\necho \"pwd:$(pwd)\"\nenv | LC_ALL=C sort\nexit 3\n";

#[test]
fn clean_environment_root_directory_and_exit_status() {
    let r = TestRoot::debian();
    r.script("probe", PROBE);
    let out = vinit_cmd()
        .args(["--root"])
        .arg(r.path())
        .args(["service", "probe", "status", "two words", "x"])
        .env("TERM", "vt100")
        .env("LANG", "C")
        .env("SECRET", "leak")
        .env("LD_PRELOAD", "")
        .current_dir("/tmp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // The shell adds PWD itself.
    assert_eq!(
        stdout(&out),
        format!(
            "args:3:status two words x\npwd:/\nLANG=C\nPATH=/sbin:/usr/sbin:/bin:/usr/bin\nPWD=/\nTERM=vt100\nVINIT={}\nVINIT_ROOT={}\n",
            std::fs::canonicalize(VINIT).unwrap().display(),
            r.path().display()
        )
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn lsb_status_codes_and_output_pass_through() {
    let r = TestRoot::debian();
    r.script(
        "st",
        "#!/bin/sh\ncode=$(cat \"$VINIT_ROOT/code\")\necho \"st status $code\"\necho to-stderr >&2\nexit $code\n",
    );
    for code in [0, 1, 2, 3, 4, 150] {
        fs::write(r.join("code"), code.to_string()).unwrap();
        let out = service(&r, &["st", "status"]);
        assert_eq!(out.status.code(), Some(code));
        assert_eq!(stdout(&out), format!("st status {code}\n"));
        assert_eq!(stderr(&out), "to-stderr\n");
    }
}

#[test]
fn the_script_replaces_the_service_process() {
    let r = TestRoot::debian();
    r.script("pid", "#!/bin/sh\necho $$\n");
    let child = vinit_cmd()
        .arg("--root")
        .arg(r.path())
        .args(["service", "pid", "start"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out).trim(), pid.to_string());
}

#[test]
fn unknown_names_and_xinetd_services() {
    let r = TestRoot::debian();
    let out = service(&r, &["nosuch", "start"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "nosuch: unrecognized service\n");
    // Names never leave init.d.
    fs::write(r.join("etc/evil"), "#!/bin/sh\necho ran\n").unwrap();
    fs::set_permissions(r.join("etc/evil"), fs::Permissions::from_mode(0o755)).unwrap();
    for name in ["../evil", "../../etc/evil", ".."] {
        let out = service(&r, &[name, "start"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(&out), format!("{name}: unrecognized service\n"));
        assert!(out.stdout.is_empty());
    }
    fs::create_dir_all(r.join("etc/xinetd.d")).unwrap();
    fs::write(
        r.join("etc/xinetd.d/telnet"),
        "service telnet\n{\n\tdisable = yes\n}\n",
    )
    .unwrap();
    let out = service(&r, &["telnet", "start"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "telnet: unrecognized service (telnet is an xinetd service: the superserver starts it on demand; \
         enable it with 'chkconfig telnet on', disable it with 'chkconfig telnet off')\n"
    );
}

#[test]
fn full_restart_stops_then_starts() {
    let r = TestRoot::debian();
    r.script(
        "svc",
        "#!/bin/sh\necho \"$1\" >> \"$VINIT_ROOT/trace\"\n[ \"$1\" = start ] && exit 7\nexit 1\n",
    );
    let out = service(&r, &["svc", "--full-restart"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(r.read("trace"), "stop\nstart\n");
    let out = service(&r, &["nosuch", "--full-restart"]);
    assert_eq!(stderr(&out), "nosuch: unrecognized service\n");
}

#[test]
fn status_all_runs_every_service_status() {
    let r = TestRoot::debian();
    for name in ["b", "a", "functions", "halt", "a.rpmsave", "a~", "skeleton"] {
        r.script(name, &format!("#!/bin/sh\necho \"{name} $1\"\nexit 3\n"));
    }
    fs::write(r.join("etc/init.d/notexec"), "#!/bin/sh\necho notexec\n").unwrap();
    fs::create_dir(r.join("etc/init.d/adir")).unwrap();
    r.script("noshebang", "echo \"noshebang $1\"\n");
    let out = service(&r, &["--status-all"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "a status\nb status\nnoshebang status\n");
}

#[test]
fn options() {
    let r = TestRoot::debian();
    let usage = "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n";
    let out = service(&r, &[]);
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (Some(1), usage.to_string())
    );
    // Help: the usage line first, then every option (any `--h…` asks for it, as in Red
    // Hat's and Debian's `service`), on stdout.
    for help in ["-h", "--help", "--hel"] {
        let out = service(&r, &[help]);
        assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));
        let text = stdout(&out);
        assert!(text.starts_with(usage), "{text}");
        for option in [
            "--status-all",
            "--root <DIR>",
            "-V, --version",
            "--full-restart",
        ] {
            assert!(text.contains(option), "{option}: {text}");
        }
    }
    // --root=DIR as well as --root DIR.
    r.script("hello", "#!/bin/sh\necho hello \"$1\"\n");
    let out = r.tool_root_eq("service", &["hello", "start"]);
    assert_eq!(stdout(&out), "hello start\n");
    let out = service(&r, &["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        format!("service ver. 0.91 (vinit {})\n", env!("CARGO_PKG_VERSION"))
    );
    // After the name, everything belongs to the script.
    r.script("echoargs", "#!/bin/sh\necho \"$*\"\n");
    let out = service(&r, &["echoargs", "--help", "-V"]);
    assert_eq!(stdout(&out), "--help -V\n");
}

#[test]
fn a_script_that_cannot_run() {
    let r = TestRoot::debian();
    fs::write(r.join("etc/init.d/locked"), "#!/bin/sh\necho no\n").unwrap();
    let out = service(&r, &["locked", "start"]);
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(
        stderr(&out),
        format!(
            "service: {}/etc/init.d/locked: Permission denied\n",
            r.path().display()
        )
    );
}

/// The example system's daemons through `service`, as a user would drive them.
#[test]
fn example_system_daemons() {
    let r = TestRoot::example_redhat();
    fs::create_dir_all(r.join("etc/default")).unwrap();
    fs::write(r.join("etc/default/heartbeat"), "HEARTBEAT_INTERVAL=1\n").unwrap();
    let out = service(&r, &["heartbeat", "status"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "heartbeat is stopped\n");
    let out = service(&r, &["heartbeat", "start"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = service(&r, &["heartbeat", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("heartbeat (pid "),
        "{}",
        stdout(&out)
    );
    assert!(wait_until(20, || r
        .read("var/log/heartbeat.log")
        .contains("alive")));
    let out = service(&r, &["heartbeat", "stop"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = service(&r, &["heartbeat", "status"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn any_file_in_init_d_is_a_service() {
    let r = TestRoot::debian();
    r.script("9lives", "#!/bin/sh\necho \"nine $1\"\n");
    let out = service(&r, &["9lives", "start"]);
    assert_eq!(stdout(&out), "nine start\n");
}

/// LSB: stopping a stopped service succeeds. The example scripts said `[FAILED]` and
/// exited 0; now the mark and the status agree, for every example daemon.
#[test]
fn stopping_a_stopped_service_is_a_success() {
    let r = TestRoot::example_redhat();
    for (name, label) in [
        ("heartbeat", "heartbeat"),
        ("spooler", "spooler"),
        ("syslog", "system logger"),
    ] {
        let out = service(&r, &[name, "stop"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            format!("Stopping {label}: [  OK  ]\n"),
            "{name}"
        );
    }
}

/// Debian's `service` and vinit's, each bound at /usr/sbin/service of a copy of the
/// stock Debian system, drive its real cron script (and daemon) through the same
/// sequence: every line of output and every exit status is the same.
#[test]
fn the_stock_cron_script_through_debians_service_and_vinits() {
    const SEQUENCE: &str =
        "for action in status stop start status start restart status stop stop status; do \
        echo \"== service cron $action\"; service cron $action 2>&1; echo \"exit $?\"; done";
    let transcript = |vinit: bool| {
        let d = DebianCopy::new();
        let out = d.run(
            User::Root,
            vinit.then_some("/usr/sbin/service"),
            &["/bin/sh", "-c", SEQUENCE],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let debian = transcript(false);
    assert!(
        debian
            .contains("== service cron stop\nStopping periodic command scheduler: cron.\nexit 0\n"),
        "{debian}"
    );
    assert!(
        debian.contains("== service cron status\ncron is running.\nexit 0\n"),
        "{debian}"
    );
    assert_eq!(transcript(true), debian);
}
