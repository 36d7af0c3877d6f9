//! `vinit init -- CMD` in a real container: podman (with runc) runs an image made of a
//! static busybox and the vinit under test — nothing else when vinit is the static build
//! (`VINIT_BIN`, as `.ci/run` runs these tests a second time), the C library and loader
//! it needs when it is the dynamic one. The engine, not the test, starts init, delivers
//! `stop` and `kill`, and reports the exit status.
//!
//! podman and runc come from Debian (`.ci/run` installs them); these tests fail, never
//! skip, without them.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The busybox applets the tests' main commands use.
const APPLETS: &[&str] = &[
    "sh", "sleep", "echo", "cat", "grep", "wc", "ls", "id", "true",
];

/// podman as it works on these machines: runc, cgroupfs.
fn podman(args: &[&str]) -> Command {
    require_podman();
    let mut cmd = Command::new("podman");
    cmd.args(["--runtime", "runc", "--cgroup-manager=cgroupfs"])
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn require_podman() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let found = |program: &str| {
            Command::new(program)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        assert!(
            found("podman") && found("runc"),
            "podman and runc are needed: .ci/run installs them (apt-get install podman runc)"
        );
    });
}

/// Options of every `podman run`: explicit limits (the machine's defaults are refused),
/// and no network (nothing here needs one, and the host's firewall stays untouched).
fn run_options() -> [&'static str; 5] {
    [
        "--ulimit",
        "nofile=1024:20000",
        "--ulimit",
        "nproc=4096:4096",
        "--network=none",
    ]
}

/// A name no other test or test run uses at the same time.
fn unique(name: &str) -> String {
    format!("vinit-test-{name}-{}", std::process::id())
}

/// Whether an ELF file asks for a program interpreter (is dynamically linked).
fn is_dynamic(path: &Path) -> bool {
    const PT_INTERP: u32 = 3;
    let elf = fs::read(path).unwrap();
    let word = |at: usize, len: usize| {
        elf[at..at + len]
            .iter()
            .rev()
            .fold(0u64, |n, b| n << 8 | u64::from(*b)) as usize
    };
    let (phoff, phentsize, phnum) = (word(0x20, 8), word(0x36, 2), word(0x38, 2));
    (0..phnum).any(|i| word(phoff + i * phentsize, 4) as u32 == PT_INTERP)
}

/// The shared objects a dynamic binary loads (ldd's answer), loader included.
fn shared_objects(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().expect("run ldd");
    assert!(out.status.success(), "ldd {}: {out:?}", binary.display());
    stdout(&out)
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, target)) => target.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// An image imported from a scratch root: busybox, vinit as /sbin/vinit, WORKDIR /srv
/// and ENV GREETING=hello. Removed when dropped.
struct Image {
    tag: String,
    _dir: tempfile::TempDir,
}

impl Image {
    /// With the C library when vinit needs one.
    fn build(name: &str) -> Image {
        Self::build_with(name, true)
    }

    fn build_with(name: &str, libraries: bool) -> Image {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        for sub in ["bin", "sbin", "srv", "etc", "tmp"] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        // As in any image: a /tmp everyone may write to (sticky).
        fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
        fs::copy(
            peer("busybox-static", "bin/busybox"),
            root.join("bin/busybox"),
        )
        .unwrap();
        for applet in APPLETS {
            symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        let vinit = Path::new(vinit_bin());
        fs::copy(vinit, root.join("sbin/vinit")).unwrap();
        if libraries && is_dynamic(vinit) {
            for object in shared_objects(vinit) {
                let dest = root.join(object.strip_prefix("/").unwrap());
                fs::create_dir_all(dest.parent().unwrap()).unwrap();
                fs::copy(&object, &dest).unwrap();
            }
        }
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nsvc:x:4321:4322:service:/srv:/bin/sh\n",
        )
        .unwrap();
        fs::write(root.join("etc/group"), "root:x:0:\nsvc:x:4322:\n").unwrap();
        let tar = dir.path().join("root.tar");
        let packed = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(packed.success());
        let tag = format!("localhost/{}:latest", unique(name));
        let imported = podman(&["import", "--quiet"])
            .args(["--change", "WORKDIR=/srv", "--change", "ENV=GREETING=hello"])
            .arg(&tar)
            .arg(&tag)
            .output()
            .unwrap();
        assert!(imported.status.success(), "podman import: {imported:?}");
        Image { tag, _dir: dir }
    }

    /// `podman run --rm IMAGE /sbin/vinit init -- MAIN...` to the end.
    fn run(&self, options: &[&str], main: &[&str]) -> Output {
        podman(&["run", "--rm"])
            .args(run_options())
            .args(options)
            .arg(&self.tag)
            .args(["/sbin/vinit", "init", "--"])
            .args(main)
            .output()
            .unwrap()
    }

    /// The same, detached, under a name of its own.
    fn start(&self, name: &str, main: &[&str]) -> Container {
        let name = unique(name);
        let out = podman(&["run", "--detach", "--name", &name])
            .args(run_options())
            .arg(&self.tag)
            .args(["/sbin/vinit", "init", "--"])
            .args(main)
            .output()
            .unwrap();
        assert!(out.status.success(), "podman run: {out:?}");
        Container { name }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = podman(&["rmi", "--force", &self.tag]).output();
    }
}

/// A detached container, removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn logs(&self) -> String {
        let out = podman(&["logs", &self.name]).output().unwrap();
        format!("{}{}", stdout(&out), stderr(&out))
    }

    fn wait_for_log(&self, text: &str) {
        assert!(
            wait_until(30, || self.logs().contains(text)),
            "{text:?} never logged:\n{}",
            self.logs()
        );
    }

    /// Waits until the container has stopped; its exit status.
    fn wait(&self) -> i32 {
        let out = podman(&["wait", &self.name]).output().unwrap();
        assert!(out.status.success(), "podman wait: {out:?}");
        stdout(&out).trim().parse().unwrap()
    }

    fn exit_code(&self) -> i32 {
        let out = podman(&["inspect", "--format", "{{.State.ExitCode}}", &self.name])
            .output()
            .unwrap();
        stdout(&out).trim().parse().unwrap()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman(&["rm", "--force", "--time", "0", &self.name]).output();
    }
}

#[test]
fn the_main_command_gets_the_images_directory_and_environment_and_sets_the_exit_status() {
    let image = Image::build("workdir");
    let out = image.run(
        &["--env", "EXTRA=given"],
        &["/bin/sh", "-c", "echo \"$PWD $GREETING $EXTRA\"; exit 7"],
    );
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert_eq!(stdout(&out), "/srv hello given\n", "{out:?}");
}

#[test]
fn stop_ends_the_container_through_term() {
    let image = Image::build("stop");
    let container = image.start("stop", &["/bin/sh", "-c", "echo ready; exec sleep 1000"]);
    container.wait_for_log("ready");
    // A long grace: had init not stopped on TERM, podman would KILL it (137) after it.
    let out = podman(&["stop", "--time", "120", &container.name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(container.exit_code(), 128 + 15, "{}", container.logs());
}

#[test]
fn a_signal_sent_to_the_container_reaches_the_main_command() {
    let image = Image::build("hup");
    let container = image.start(
        "hup",
        &[
            "/bin/sh",
            "-c",
            "trap 'echo got HUP; exit 3' HUP; echo ready; while :; do sleep 0.1; done",
        ],
    );
    container.wait_for_log("ready");
    let out = podman(&["kill", "--signal", "HUP", &container.name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(container.wait(), 3, "{}", container.logs());
    assert!(container.logs().contains("got HUP"), "{}", container.logs());
}

/// Orphans left by the main command's children are init's to reap: once every orphan
/// has exited, none is left a zombie.
#[test]
fn orphans_are_reaped() {
    let image = Image::build("orphans");
    let script = "\
        for i in 1 2 3 4 5 6 7 8; do (sleep 0.2 &); done
        n=0
        while grep -qs '^Name:.sleep$' /proc/[0-9]*/status && [ $n -lt 600 ]; do
            sleep 0.05; n=$((n + 1))
        done
        echo zombies: $(grep -ls '^State:.Z' /proc/[0-9]*/status | wc -l)";
    let out = image.run(&[], &["/bin/sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "zombies: 0\n", "{out:?}");
}

/// The static build starts where there is no C library at all; the dynamic build
/// cannot (its loader is missing), which is why the static one exists.
#[test]
fn an_image_without_a_c_library_runs_only_the_static_build() {
    let image = Image::build_with("nolibc", false);
    let script = "for d in /lib /lib64 /usr; do [ -e $d ] && echo has $d; done; echo started";
    let out = image.run(&[], &["/bin/sh", "-c", script]);
    if is_dynamic(Path::new(vinit_bin())) {
        assert_ne!(out.status.code(), Some(0), "{out:?}");
        assert!(!stdout(&out).contains("started"), "{out:?}");
    } else {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(stdout(&out), "started\n", "{out:?}");
    }
}

/// Users and groups come from the image's /etc/passwd and /etc/group; a user that is not
/// there is an error naming it (exit status 2, as start-stop-daemon's), never a command run
/// as root.
#[test]
fn users_come_from_the_images_files_and_an_unknown_one_is_an_error() {
    let image = Image::build("users");
    // The daemon's output goes to a file; the main command shows it once written.
    let script = "\
        /sbin/vinit start-stop-daemon --start --chuid \"$0\" --output /tmp/ids \
            --exec /bin/sh -- -c 'echo $(id -u):$(id -g)' || exit $?
        n=0
        while [ ! -s /tmp/ids ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
        cat /tmp/ids";
    let as_user = |user: &str| image.run(&[], &["/bin/sh", "-c", script, user]);
    let known = as_user("svc");
    assert_eq!(known.status.code(), Some(0), "{known:?}");
    assert_eq!(stdout(&known), "4321:4322\n", "{known:?}");
    let unknown = as_user("ghost");
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    assert!(stdout(&unknown).is_empty(), "{unknown:?}");
    assert!(stderr(&unknown).contains("ghost"), "{unknown:?}");
}

/// On a host whose nsswitch.conf names a module besides `files` (here systemd's, as
/// Debian installs it), a user that is in no file reaches the module. A static glibc
/// loads it, and a second C library with it, and crashed there; vinit's static build
/// asks only its built-in sources, so the lookup fails cleanly, by name — as it does in
/// the dynamic build. (Needs libnss-systemd, which .ci/run installs.)
#[test]
fn a_user_missing_from_the_files_is_unknown_whatever_nsswitch_conf_names() {
    let module = fs::read_dir("/usr/lib")
        .unwrap()
        .flatten()
        .map(|dir| dir.path().join("libnss_systemd.so.2"))
        .find(|path| path.exists());
    assert!(
        module.is_some(),
        "libnss_systemd.so.2 is missing: .ci/run installs it (apt-get install libnss-systemd)"
    );
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nsswitch.conf");
    fs::write(&conf, "passwd: files systemd\ngroup: files systemd\n").unwrap();
    let mut unshare = Command::new("unshare");
    if !nix::unistd::geteuid().is_root() {
        unshare.args(["--user", "--map-root-user"]);
    }
    let out = unshare
        .args(["--mount", "sh", "-c"])
        .arg(format!(
            "mount --bind {} /etc/nsswitch.conf && exec {} start-stop-daemon --start \
             --chuid ghost-of-vinit --exec /bin/true",
            conf.display(),
            vinit_bin()
        ))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    // The error (as start-stop-daemon words it), not a crash: exit status 2, the name.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("ghost-of-vinit"), "{out:?}");
}
