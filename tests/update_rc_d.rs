//! `update-rc.d` end to end: sysv-rc's messages, exit statuses and links.

mod common;

use common::*;
use std::fs;
use std::process::Output;

const LSB: &str =
    "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          web\n# Required-Start:    $remote_fs\n\
# Required-Stop:     $remote_fs\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n\
# Short-Description: a web server\n### END INIT INFO\nexit 0\n";

fn urd(root: &TestRoot, args: &[&str]) -> Output {
    let mut all = vec!["update-rc.d"];
    all.extend_from_slice(args);
    root.vinit(&all)
}

fn links(root: &TestRoot, service: &str) -> Vec<String> {
    let mut out = Vec::new();
    for level in "0123456S".chars() {
        let Ok(dir) = fs::read_dir(root.join(&format!("etc/rc{level}.d"))) else {
            continue;
        };
        let mut names: Vec<String> = dir
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.len() > 3 && &n[3..] == service)
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|n| format!("{level}:{n}")));
    }
    out
}

/// The root's path in messages.
fn p(root: &TestRoot) -> String {
    root.path().display().to_string()
}

#[test]
fn defaults_follow_the_lsb_header() {
    let r = TestRoot::debian();
    r.script("web", LSB);
    let out = urd(&r, &["web", "defaults"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let d = p(&r);
    assert_eq!(
        stdout(&out),
        format!(
            " Adding system startup for {d}/etc/init.d/web ...\n\
             \x20  {d}/etc/rc0.d/K20web -> ../init.d/web\n\
             \x20  {d}/etc/rc1.d/K20web -> ../init.d/web\n\
             \x20  {d}/etc/rc6.d/K20web -> ../init.d/web\n\
             \x20  {d}/etc/rc2.d/S20web -> ../init.d/web\n\
             \x20  {d}/etc/rc3.d/S20web -> ../init.d/web\n\
             \x20  {d}/etc/rc4.d/S20web -> ../init.d/web\n\
             \x20  {d}/etc/rc5.d/S20web -> ../init.d/web\n"
        )
    );
    assert_eq!(stderr(&out), "");
    assert_eq!(
        fs::read_link(r.join("etc/rc2.d/S20web")).unwrap().to_str(),
        Some("../init.d/web")
    );
    let again = urd(&r, &["web", "defaults", "30"]);
    assert!(again.status.success());
    assert_eq!(
        stdout(&again),
        format!(" System start/stop links for {d}/etc/init.d/web already exist.\n")
    );
    assert_eq!(links(&r, "web")[3], "3:S20web");
}

#[test]
fn codenumbers_and_scripts_without_lsb_information() {
    let r = TestRoot::debian();
    r.script("plain", "#!/bin/sh\necho $1\n");
    let out = urd(&r, &["plain", "defaults", "10", "90"]);
    assert!(out.status.success());
    let d = p(&r);
    assert_eq!(
        stderr(&out),
        format!(
            "update-rc.d: warning: {d}/etc/init.d/plain missing LSB information\n\
             update-rc.d: see <http://wiki.debian.org/LSBInitScripts>\n"
        )
    );
    assert_eq!(
        links(&r, "plain"),
        [
            "0:K90plain",
            "1:K90plain",
            "2:S10plain",
            "3:S10plain",
            "4:S10plain",
            "5:S10plain",
            "6:K90plain"
        ]
    );
    r.script("partial", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: partial\n# Default-Start: 3\n### END INIT INFO\n");
    let out = urd(&r, &["partial", "defaults", "5"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        format!(
            "update-rc.d: warning: {d}/etc/init.d/partial missing LSB keyword 'required-start'\n\n\
             update-rc.d: warning: {d}/etc/init.d/partial missing LSB keyword 'required-stop'\n\n\
             update-rc.d: warning: {d}/etc/init.d/partial missing LSB keyword 'default-stop'\n\n"
        )
    );
    assert_eq!(links(&r, "partial"), ["3:S05partial"]);
    for (args, message) in [
        (
            vec!["plain", "defaults", "100"],
            "codenumber must be a number between 0 and 99",
        ),
        (
            vec!["plain", "defaults", "1", "2", "3"],
            "defaults takes only one or two codenumbers",
        ),
    ] {
        let out = urd(&r, &args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(&format!(
                "update-rc.d: error: {message}\nusage: update-rc.d"
            )),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn remove_needs_force_while_the_script_exists() {
    let r = TestRoot::debian();
    r.script("web", LSB);
    assert!(urd(&r, &["web", "defaults"]).status.success());
    let d = p(&r);
    let out = urd(&r, &["web", "remove"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("update-rc.d: {d}/etc/init.d/web exists during rc.d purge (use -f to force)\n")
    );
    assert_eq!(links(&r, "web").len(), 7);
    // A plain file with a link's name is not a link of the service: never touched.
    fs::write(r.join("etc/rc2.d/S99web"), "").unwrap();
    let out = urd(&r, &["-f", "web", "remove"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            " Removing any system startup links for {d}/etc/init.d/web ...\n\
             \x20  {d}/etc/rc0.d/K20web\n   {d}/etc/rc1.d/K20web\n   {d}/etc/rc2.d/S20web\n\
             \x20  {d}/etc/rc3.d/S20web\n   {d}/etc/rc4.d/S20web\n   {d}/etc/rc5.d/S20web\n   {d}/etc/rc6.d/K20web\n"
        )
    );
    assert_eq!(stderr(&out), "");
    assert_eq!(links(&r, "web"), ["2:S99web"]);
    // Once the script is gone (a purge), no -f is needed.
    fs::remove_file(r.join("etc/init.d/web")).unwrap();
    fs::remove_file(r.join("etc/rc2.d/S99web")).unwrap();
    r.link('3', "S20web", "/etc/init.d/web");
    let out = urd(&r, &["web", "remove"]);
    assert!(out.status.success());
    assert!(links(&r, "web").is_empty());
}

#[test]
fn enable_and_disable() {
    let r = TestRoot::debian();
    r.script("web", LSB);
    assert!(urd(&r, &["web", "defaults"]).status.success());
    let d = p(&r);
    let out = urd(&r, &["web", "disable", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            " Disabling system startup links for {d}/etc/init.d/web ...\n\
             \x20Removing any system startup links for {d}/etc/init.d/web ...\n\
             \x20  {d}/etc/rc0.d/K20web\n   {d}/etc/rc1.d/K20web\n   {d}/etc/rc2.d/S20web\n   {d}/etc/rc3.d/S20web\n\
             \x20  {d}/etc/rc4.d/S20web\n   {d}/etc/rc5.d/S20web\n   {d}/etc/rc6.d/K20web\n\
             \x20Adding system startup for {d}/etc/init.d/web ...\n\
             \x20  {d}/etc/rc0.d/K20web -> ../init.d/web\n   {d}/etc/rc1.d/K20web -> ../init.d/web\n\
             \x20  {d}/etc/rc6.d/K20web -> ../init.d/web\n   {d}/etc/rc2.d/S20web -> ../init.d/web\n\
             \x20  {d}/etc/rc3.d/K20web -> ../init.d/web\n   {d}/etc/rc4.d/S20web -> ../init.d/web\n\
             \x20  {d}/etc/rc5.d/S20web -> ../init.d/web\n"
        )
    );
    assert_eq!(links(&r, "web")[3], "3:K20web");
    assert!(urd(&r, &["web", "disable"]).status.success());
    assert_eq!(
        links(&r, "web"),
        ["0:K20web", "1:K20web", "2:K20web", "3:K20web", "4:K20web", "5:K20web", "6:K20web"]
    );
    assert!(urd(&r, &["web", "enable", "2", "5"]).status.success());
    assert_eq!(links(&r, "web")[2], "2:S20web");
    assert_eq!(links(&r, "web")[5], "5:S20web");
    assert_eq!(links(&r, "web")[3], "3:K20web");
    let out = urd(&r, &["web", "enable", "6"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("update-rc.d: error: expected 'S' '2' '3' '4' or '5'\nusage:"));
    r.script("other", LSB.replace("web", "other").as_str());
    let out = urd(&r, &["other", "enable"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!(" System start/stop links for {d}/etc/init.d/other do not exist.\n")
    );
}

#[test]
fn legacy_start_stop_and_dry_run() {
    let r = TestRoot::debian();
    r.script("old", "#!/bin/sh\n");
    let out = urd(
        &r,
        &[
            "-n", "old", "start", "15", "2", "3", ".", "stop", "85", "0", "6", ".",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let d = p(&r);
    assert!(
        stdout(&out).contains(&format!("   {d}/etc/rc0.d/K85old -> ../init.d/old\n")),
        "{}",
        stdout(&out)
    );
    assert!(links(&r, "old").is_empty(), "-n changes nothing");
    assert!(urd(
        &r,
        &["old", "start", "15", "2", "3", ".", "stop", "85", "0", "6", "."]
    )
    .status
    .success());
    assert_eq!(
        links(&r, "old"),
        ["0:K85old", "2:S15old", "3:S15old", "6:K85old"]
    );
    for (args, message) in [
        (
            vec!["old", "start", "15", "2"],
            "start|stop arguments not terminated by \".\"",
        ),
        (
            vec!["old", "start", "x", "2", "."],
            "expected NN after start",
        ),
        (
            vec!["old", "start", "15", "23", "."],
            "expected runlevel [0-9S] (did you forget \".\" ?)",
        ),
    ] {
        let out = urd(&r, &args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(&format!("update-rc.d: error: {message}\nusage:")),
            "{}",
            stderr(&out)
        );
    }
    fs::remove_dir(r.join("etc/rc4.d")).unwrap();
    let out = urd(&r, &["old", "start", "15", "4", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).ends_with(&format!(
        "\nupdate-rc.d: {d}/etc/rc4.d: no such directory\n"
    )));
    // Explicit levels that differ from the LSB header are pointed out.
    r.script("web", LSB);
    let out = urd(&r, &["web", "start", "20", "3", "."]);
    assert!(stderr(&out).contains(
        "update-rc.d: warning:  start runlevel arguments (3) do not match web Default-Start values (2 3 4 5)\n"
    ));
    assert!(stderr(&out).contains(
        "update-rc.d: warning:  stop runlevel arguments (none) do not match web Default-Stop values (0 1 6)\n"
    ));
}

#[test]
fn command_line_errors() {
    let r = TestRoot::debian();
    let out = urd(&r, &["web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("update-rc.d: error: not enough arguments\nusage: update-rc.d [-n] [-f] <basename> remove\n"));
    assert!(stderr(&out).ends_with("\t\t-n: not really\n\t\t-f: force\n\nThe disable|enable API is not stable and might change in the future.\n"));
    let out = urd(&r, &["-x", "web", "defaults"]);
    assert!(stderr(&out).starts_with("update-rc.d: error: unknown option\n"));
    let out = urd(&r, &["nosuch", "defaults"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "update-rc.d: {}/etc/init.d/nosuch: file does not exist\n",
            p(&r)
        )
    );
    let out = urd(&r, &["../../bin/sh", "defaults"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "update-rc.d: illegal character in name '../../bin/sh'\n"
    );
    r.script("web", LSB);
    let out = urd(&r, &["web", "frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("usage: update-rc.d"));
}

#[test]
fn dependencies_move_other_services_and_are_shown() {
    let r = TestRoot::debian();
    r.script("late", "#!/bin/sh\n# chkconfig: 2345 90 10\n");
    r.script("base", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: base\n# Required-Start: late\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n");
    r.script("app", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: app\n# Required-Start: base\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n");
    for l in "2345".chars() {
        r.link(l, "S30app", "../init.d/app");
        r.link(l, "S20base", "../init.d/base");
    }
    let out = urd(&r, &["late", "defaults"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let d = p(&r);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("   {d}/etc/rc2.d/S90late -> ../init.d/late\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            " Moving the links of {d}/etc/init.d/base to keep its dependencies in order ...\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "   {d}/etc/rc2.d/S20base -> {d}/etc/rc2.d/S91base\n"
        )),
        "{text}"
    );
    assert_eq!(links(&r, "base")[0], "2:S91base");
    assert_eq!(links(&r, "app")[0], "2:S92app");
}

#[test]
fn defaults_disabled_and_other_roots() {
    let r = TestRoot::debian();
    r.script("web", LSB);
    let out = vinit_cmd()
        .args(["update-rc.d", "web", "defaults-disabled"])
        .env("DPKG_ROOT", r.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        links(&r, "web"),
        ["0:K20web", "1:K20web", "2:K20web", "3:K20web", "4:K20web", "5:K20web", "6:K20web"]
    );
    // A Red Hat tree: the paths printed are its own.
    let rh = TestRoot::example_redhat();
    let out = urd(&rh, &["-f", "spooler", "remove"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("   {}/etc/rc.d/rc3.d/S20spooler\n", p(&rh))),
        "{}",
        stdout(&out)
    );
    let out = urd(&rh, &["spooler", "defaults"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains(&format!(
        "   {}/etc/rc.d/rc3.d/S20spooler -> ../init.d/spooler\n",
        p(&rh)
    )));
}

#[test]
fn changing_links_needs_write_access() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let r = TestRoot::debian();
    r.script("web", LSB);
    assert!(urd(&r, &["web", "defaults"]).status.success());
    r.script("other", &LSB.replace("web", "other"));
    fs::set_permissions(r.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let as_nobody = |args: &[&str]| {
        let mut cmd = vinit_cmd();
        cmd.arg("--root")
            .arg(r.path())
            .arg("update-rc.d")
            .args(args);
        cmd.uid(65534).gid(65534);
        cmd.output().unwrap()
    };
    let out = as_nobody(&["other", "defaults"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "update-rc.d: symlink: Permission denied\n");
    let out = as_nobody(&["-f", "web", "remove"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "update-rc.d: unlink: Permission denied\n");
    assert_eq!(links(&r, "web").len(), 7);
    assert!(links(&r, "other").is_empty());
}
