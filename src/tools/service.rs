//! `service NAME ACTION [ARGS…]`: runs `init.d/NAME ACTION ARGS…` the way Red Hat's
//! `service` does — environment emptied but for `PATH`, `TERM` and `LANG`, working
//! directory `/` — and hands back the script's exit status and output untouched (the
//! LSB status codes are what configuration managers read).
//!
//! The script replaces this process (`execve`): nothing remains to do after it, and the
//! cost over running the script directly is one exec.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use nix::sys::wait::waitpid;

use super::Context;
use crate::error::{SysError, ToolError, ToolResult, Verbatim};
use crate::format::rclink::is_ignored_script_name;
use crate::sys::layout::Root;
use crate::sys::spawn::{Spawn, Stdio};

/// The Red Hat `service` release whose interface this reproduces.
pub const COMPATIBLE_VERSION: &str = "0.91";

/// Never run by `--status-all`: libraries and the scripts of the shutdown sequence
/// (Red Hat's list), and Debian's non-services.
const NOT_SERVICES: &[&str] = &[
    "functions",
    "halt",
    "killall",
    "single",
    "linuxconf",
    "kudzu",
    "rc",
    "rcS",
    "skeleton",
    "README",
    "reboot",
];

fn usage(progname: &str) -> String {
    format!(
        "Usage: {progname} < option > | --status-all | [ service_name [ command | --full-restart ] ]\n"
    )
}

/// A script that could not be run: `service: PATH: REASON`, and a shell's status for
/// it (127 when it is gone, 126 otherwise).
#[derive(Debug)]
struct ExecError(SysError);

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ToolError for ExecError {
    fn code(&self) -> i32 {
        match self.0.source.raw_os_error() {
            Some(libc::ENOENT) => 127,
            _ => 126,
        }
    }
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    crate::error::finish("service", run_tool(ctx, args))
}

fn run_tool(ctx: &Context, args: Vec<OsString>) -> ToolResult {
    let progname = super::program_name(&args, "service");
    let mut rest: Vec<OsString> = args.into_iter().skip(1).collect();
    let mut own_root: Option<PathBuf> = None;
    // Options come before the service name; everything after it is the script's.
    while let Some(first) = rest.first().map(|a| a.to_string_lossy().into_owned()) {
        match first.as_str() {
            "--root" if rest.len() >= 2 => {
                own_root = Some(PathBuf::from(rest.remove(1)));
                rest.remove(0);
            }
            w if w.starts_with("--root=") => {
                own_root = Some(PathBuf::from(&w["--root=".len()..]));
                rest.remove(0);
            }
            w if w == "-h" || w.starts_with("--h") => {
                eprint!("{}", usage(&progname));
                return Ok(0);
            }
            "-V" | "--version" => {
                eprintln!(
                    "{progname} ver. {COMPATIBLE_VERSION} (vinit {})",
                    env!("CARGO_PKG_VERSION")
                );
                return Ok(0);
            }
            _ => break,
        }
    }
    let root = ctx.root(own_root.as_deref());
    match rest.as_slice() {
        [] => Err(Verbatim::new(1, usage(&progname)).into()),
        [only] if only == "--status-all" => Ok(status_all(&root)),
        [name, flag] if flag == "--full-restart" => full_restart(&root, name),
        [name, script_args @ ..] => run(&root, name, script_args),
    }
}

/// A name `service` will look up: anything naming a file directly in init.d (Red Hat's
/// `service` joined any string to the directory, `../../bin/sh` included).
fn in_init_d(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".."
}

/// The script of `name`, if it names one.
fn script(root: &Root, name: &OsStr) -> Option<PathBuf> {
    let name = name.to_str()?;
    if !in_init_d(name) {
        return None;
    }
    let path = root.init_script(name);
    path.is_file().then_some(path)
}

fn unrecognized(root: &Root, name: &OsStr) -> Box<dyn ToolError> {
    let name = name.to_string_lossy();
    let xinetd = in_init_d(&name) && root.xinetd_d().join(&*name).is_file();
    let message = if xinetd {
        format!(
            "{name}: unrecognized service ({name} is an xinetd service: the superserver starts it \
             on demand; enable it with 'chkconfig {name} on', disable it with 'chkconfig {name} off')"
        )
    } else {
        format!("{name}: unrecognized service")
    };
    Verbatim::new(1, message).into()
}

/// The command for one run of a script: clean environment, `/`, our stdio.
fn command(root: &Root, script: &Path, args: &[OsString]) -> Spawn {
    let mut spawn = Spawn::new(script);
    spawn.args(args);
    spawn.env("PATH", crate::sys::DEFAULT_PATH);
    for key in ["TERM", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            spawn.env(key, value);
        }
    }
    if let Some((k, v)) = root.script_env() {
        spawn.env(k, v);
    }
    // As under rc: the shipped `functions` run this binary's `daemon` tool.
    if let Ok(exe) = std::env::current_exe() {
        spawn.env(crate::sys::rcexec::BINARY_ENV, exe);
    }
    spawn.cwd = Some(PathBuf::from("/"));
    spawn.stdin = Stdio::Inherit;
    spawn.stdout = Stdio::Inherit;
    spawn.stderr = Stdio::Inherit;
    spawn
}

fn run(root: &Root, name: &OsStr, args: &[OsString]) -> ToolResult {
    let script = script(root, name).ok_or_else(|| unrecognized(root, name))?;
    Err(exec(root, &script, args).into())
}

/// The same run through `/bin/sh`: a script without `#!` is a shell script, as for
/// `execvp` (and so for Red Hat's `env`).
fn through_shell(root: &Root, script: &Path, args: &[OsString]) -> Spawn {
    let mut sh_args = vec![script.as_os_str().to_os_string()];
    sh_args.extend(args.iter().cloned());
    let mut sh = command(root, Path::new("/bin/sh"), &sh_args);
    sh.argv0("sh");
    sh
}

fn is_enoexec(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOEXEC)
}

/// Replaces this process with the script; what comes back is why it could not.
fn exec(root: &Root, script: &Path, args: &[OsString]) -> ExecError {
    let error = command(root, script, args).exec();
    let error = if is_enoexec(&error) {
        through_shell(root, script, args).exec()
    } else {
        error
    };
    ExecError(SysError::at(script, error))
}

/// Runs a script to completion, for a step whose status nobody reads (the stop of a
/// full restart, each status of `--status-all`): a script that cannot run is said.
fn run_and_wait(root: &Root, script: &Path, action: &str) {
    let args = [OsString::from(action)];
    let spawned = match command(root, script, &args).spawn() {
        Err(e) if is_enoexec(&e) => through_shell(root, script, &args).spawn(),
        other => other,
    };
    let pid = match spawned {
        Ok(pid) => pid,
        Err(error) => {
            eprintln!("service: {}", SysError::at(script, error));
            return;
        }
    };
    while let Err(nix::errno::Errno::EINTR) = waitpid(pid, None) {}
}

/// `NAME --full-restart`: stop, then start; the status is start's.
fn full_restart(root: &Root, name: &OsStr) -> ToolResult {
    let script = script(root, name).ok_or_else(|| unrecognized(root, name))?;
    run_and_wait(root, &script, "stop");
    Err(exec(root, &script, &[OsString::from("start")]).into())
}

/// `--status-all`: every script's `status`, in name order, output as the scripts write it.
fn status_all(root: &Root) -> i32 {
    let dir = root.init_d();
    let Ok(listing) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut names: Vec<String> = listing
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !NOT_SERVICES.contains(&n.as_str()) && !is_ignored_script_name(n))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let executable = nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK).is_ok();
        if executable && path.is_file() {
            run_and_wait(root, &path, "status");
        }
    }
    0
}
