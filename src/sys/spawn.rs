//! Starting programs: the one spawn path of every vinit tool (init, rc, the superserver,
//! service, the daemon helper).
//!
//! Every child gets: a clean signal mask and default dispositions (init reads signals
//! through a blocked mask, and children inherit masks across exec — Rust's `Command`
//! does not reset them), optionally its own session, its standard descriptors as
//! configured, every other descriptor closed, and — when credentials are given —
//! supplementary groups, group and user set in that order, on this one path, so no
//! caller can forget to drop privileges.
//!
//! Daemons (`detach`) get the rest of the daemon(3) recipe on the same path: after
//! `setsid` the child forks once more and only the grandchild execs, so the program is
//! not a session leader and can never acquire a controlling terminal; the grandchild's
//! pid, or the errno of the step that failed in it, comes back through a pipe. One
//! extra descriptor may be kept (`keep_fd`), the documented exception to "only 0-2":
//! `vinit daemon` passes the pidfile that way, locked by the program's own process.
//!
//! The child is created with `clone(CLONE_VM | CLONE_VFORK)`: it borrows the parent's
//! memory until `execve`, so the cost of a spawn does not grow with the parent's size
//! (a `fork` copies page tables: 0.5 ms at 0 MiB, 3.3 ms at 100 MiB). Because it shares
//! memory, the child runs only raw system calls on data prepared by the parent: no
//! allocation, no locks, no glibc wrappers that touch other threads (glibc's `setuid`
//! would signal the parent's threads), and every signal is blocked around the clone so
//! that no parent handler runs on the shared stack.

#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::Pid;

/// What a standard descriptor of the child is connected to.
#[derive(Clone, Copy, Debug, Default)]
pub enum Stdio {
    /// `/dev/null`.
    #[default]
    Null,
    /// The parent's own descriptor of the same number.
    Inherit,
    /// A descriptor of the parent (it may be close-on-exec; the child gets a copy).
    Fd(RawFd),
}

/// A descriptor handed to the program at a fixed number.
#[derive(Clone, Copy, Debug)]
pub struct KeepFd {
    /// The parent's descriptor (it may be close-on-exec).
    pub source: RawFd,
    /// Its number in the program (3 or more).
    pub target: RawFd,
    /// Take a POSIX read lock on it in the program's own process just before exec: the
    /// lock then belongs to the program and the kernel drops it when the program dies.
    /// A read lock needs only a read-only descriptor, which the program cannot write
    /// through.
    pub read_lock: bool,
}

/// Who the child runs as. `groups` is the full supplementary list (what `initgroups`
/// would set), computed by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
}

/// Why a user's credentials could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    UnknownUser(String),
    UnknownGroup(String),
    /// A name with a NUL byte in it.
    InvalidName(String),
    /// The lookup itself failed: what was looked up, and the system's reason.
    Failed {
        what: String,
        errno: Errno,
    },
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::UnknownUser(name) => write!(f, "unknown user \"{name}\""),
            LookupError::UnknownGroup(name) => write!(f, "unknown group \"{name}\""),
            LookupError::InvalidName(name) => write!(f, "invalid user name {name:?}"),
            LookupError::Failed { what, errno } => write!(f, "{what}: {}", errno.desc()),
        }
    }
}

impl Credentials {
    /// The credentials of a user from the password database, with its groups.
    pub fn for_user(name: &str, group: Option<&str>) -> Result<Credentials, LookupError> {
        let failed = |what: String| move |errno| LookupError::Failed { what, errno };
        let user = nix::unistd::User::from_name(name)
            .map_err(failed(format!("user \"{name}\"")))?
            .ok_or_else(|| LookupError::UnknownUser(name.to_string()))?;
        let gid = match group {
            None => user.gid,
            Some(g) => match g.parse::<u32>() {
                Ok(n) => nix::unistd::Gid::from_raw(n),
                Err(_) => {
                    nix::unistd::Group::from_name(g)
                        .map_err(failed(format!("group \"{g}\"")))?
                        .ok_or_else(|| LookupError::UnknownGroup(g.to_string()))?
                        .gid
                }
            },
        };
        let cname = CString::new(name).map_err(|_| LookupError::InvalidName(name.to_string()))?;
        let groups = nix::unistd::getgrouplist(&cname, gid)
            .map_err(failed(format!("groups of \"{name}\"")))?
            .into_iter()
            .map(|g| g.as_raw())
            .collect();
        Ok(Credentials {
            uid: user.uid.as_raw(),
            gid: gid.as_raw(),
            groups,
        })
    }
}

/// A program to start, built like `std::process::Command` but with an empty environment
/// unless variables are added.
#[derive(Clone, Debug)]
pub struct Spawn {
    program: PathBuf,
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    pub cwd: Option<PathBuf>,
    /// Start a new session (and process group) led by the child.
    pub new_session: bool,
    /// Run in this process group instead (0: a new group led by the child).
    pub process_group: Option<libc::pid_t>,
    /// Make the child's process group the foreground group of the terminal on its
    /// stdin, if it is one (a container's main command run with a tty, as tini does).
    pub foreground: bool,
    /// Make the terminal on stdin the controlling terminal of the child's new session,
    /// taking it from any other session (what sysvinit does for boot scripts, so that
    /// fsck or a password prompt can read the console and Ctrl-C reaches them).
    pub controlling_tty: bool,
    pub credentials: Option<Credentials>,
    pub umask: Option<libc::mode_t>,
    pub nice: Option<i32>,
    /// Fork again after `setsid` and exec in the grandchild (a daemon: reparented to
    /// init, never a session leader). `spawn` then returns the grandchild's pid, which is
    /// not our child: do not wait for it.
    pub detach: bool,
    pub keep_fd: Option<KeepFd>,
}

impl Spawn {
    /// `program` with `argv[0]` = `program`.
    pub fn new(program: impl AsRef<OsStr>) -> Spawn {
        let program = program.as_ref();
        Spawn {
            program: PathBuf::from(program),
            argv: vec![program.to_os_string()],
            env: Vec::new(),
            stdin: Stdio::Null,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            cwd: None,
            new_session: false,
            process_group: None,
            foreground: false,
            controlling_tty: false,
            credentials: None,
            umask: None,
            nice: None,
            detach: false,
            keep_fd: None,
        }
    }

    pub fn argv0(&mut self, name: impl AsRef<OsStr>) -> &mut Spawn {
        self.argv[0] = name.as_ref().to_os_string();
        self
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Spawn {
        self.argv.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Spawn {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Sets (or replaces) one environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Spawn {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.as_ref().to_os_string()));
        self
    }

    pub fn env_value(&self, key: &str) -> Option<&OsStr> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_os_str())
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Starts the child. Errors from `execve` (missing program, no permission) and from
    /// dropping privileges are returned here, with the child already reaped.
    pub fn spawn(&self) -> io::Result<Pid> {
        let mut prepared = self.prepare()?;
        // SAFETY: `prepared` holds every pointer the child uses and outlives the clone
        // (CLONE_VFORK suspends us until the child has exec'd or exited).
        let result = unsafe { prepared.clone_and_exec() };
        // The child no longer runs on the stack: it has exec'd, exited, or (detached)
        // left a grandchild with a copy of its own.
        let stack = std::mem::take(&mut prepared.stack);
        let _ = CHILD_STACK.try_with(|cell| cell.set(Some(stack)));
        let pid = result?;
        match prepared.report.take() {
            Some((reader, writer)) => {
                drop(writer);
                wait_intermediate(pid);
                read_detach_report(reader)
            }
            None => Ok(pid),
        }
    }

    /// Replaces this process with the program, set up exactly as [`Spawn::spawn`] sets
    /// up a child: default signal dispositions and an empty mask, the standard
    /// descriptors as configured and no other, the directory, the credentials. For a
    /// tool whose last act is to run a program (`service`): no fork, no wait, and the
    /// program's exit status is the tool's. Returns only on failure.
    pub fn exec(&self) -> io::Error {
        if self.detach {
            // Detaching forks; replacing this process has nothing to detach from.
            return io::Error::new(io::ErrorKind::InvalidInput, "exec cannot detach");
        }
        let prepared = match self.prepare() {
            Ok(p) => p,
            Err(e) => return e,
        };
        // SAFETY: raw system calls on data prepared above. Every signal is blocked first,
        // as around the clone in `spawn`, so no handler runs while dispositions change;
        // the steps unblock them just before execve.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
            let mut detached = false;
            let errno = child_steps(&prepared, &mut detached);
            io::Error::from_raw_os_error(errno)
        }
    }

    fn prepare(&self) -> io::Result<Prepared> {
        let program = resolve_program(&self.program, self.env_value("PATH"))?;
        let cstr = |s: &OsStr| {
            CString::new(s.as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in argument"))
        };
        let argv: Vec<CString> = self
            .argv
            .iter()
            .map(|a| cstr(a))
            .collect::<io::Result<_>>()?;
        let envp: Vec<CString> = self
            .env
            .iter()
            .map(|(k, v)| {
                let mut kv = k.clone();
                kv.push("=");
                kv.push(v);
                cstr(&kv)
            })
            .collect::<io::Result<_>>()?;
        let mut prepared = Prepared {
            program: cstr(program.as_os_str())?,
            argv_ptrs: Vec::new(),
            envp_ptrs: Vec::new(),
            argv,
            envp,
            stdio: [self.stdin, self.stdout, self.stderr],
            reset_signals: non_default_signals(),
            dev_null: CString::new("/dev/null").unwrap_or_default(),
            cwd: self
                .cwd
                .as_deref()
                .map(|p| cstr(p.as_os_str()))
                .transpose()?,
            new_session: self.new_session,
            process_group: self.process_group,
            foreground: self.foreground,
            controlling_tty: self.controlling_tty,
            credentials: self.credentials.clone(),
            umask: self.umask,
            nice: self.nice,
            held: Vec::new(),
            detach: self.detach,
            keep: self.keep_fd,
            report: None,
            error: 0,
            // Uninitialised (zeroing 64 KiB per spawn is measurable, and the child only
            // writes before it reads), and reused from the previous spawn.
            stack: CHILD_STACK
                .try_with(|cell| cell.take())
                .ok()
                .flatten()
                .filter(|s| s.len() == CHILD_STACK_SIZE)
                .unwrap_or_else(|| Box::new_uninit_slice(CHILD_STACK_SIZE)),
        };
        prepared.argv_ptrs = prepared
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        prepared.envp_ptrs = prepared
            .envp
            .iter()
            .map(|a| a.as_ptr())
            .chain([std::ptr::null()])
            .collect();
        prepared.lift_low_sources()?;
        prepared.prepare_keep_and_report()?;
        Ok(prepared)
    }
}

const CHILD_STACK_SIZE: usize = 64 * 1024;

type ChildStack = Box<[std::mem::MaybeUninit<u8>]>;

thread_local! {
    /// The child's stack, kept from one spawn to the next: allocating and freeing it
    /// each time makes the allocator grow and trim the heap around every spawn, with
    /// fresh page faults each time (the superserver spawns thousands a second). Its
    /// contents never matter; a thread's spawns run one at a time.
    static CHILD_STACK: std::cell::Cell<Option<ChildStack>> = const { std::cell::Cell::new(None) };
}

/// Finds a program without a `/` in the child's `PATH`, as `execvp` would.
pub fn resolve_program(program: &Path, path_var: Option<&OsStr>) -> io::Result<PathBuf> {
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(program.to_path_buf());
    }
    let search = path_var.unwrap_or(OsStr::new(crate::sys::DEFAULT_PATH));
    for dir in std::env::split_paths(search) {
        let candidate = dir.join(program);
        if nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok() {
            return Ok(candidate);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: command not found", program.display()),
    ))
}

/// The signals whose disposition is not the default in this process, read from
/// `/proc/self/status` (three system calls): a child then resets those few instead of
/// all 64 — a spawn's cost, visible on a boot of hundreds of scripts. Without /proc
/// (early in a machine's boot), every signal.
fn non_default_signals() -> u64 {
    crate::sys::fs::read_regular(std::path::Path::new("/proc/self/status"), 64 * 1024)
        .ok()
        .and_then(|bytes| {
            crate::format::procstat::non_default_signals(&String::from_utf8_lossy(&bytes))
        })
        .unwrap_or(u64::MAX)
}

/// Everything the child needs, laid out before the clone.
struct Prepared {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    stdio: [Stdio; 3],
    /// The signals the child must set back to their default disposition.
    reset_signals: u64,
    dev_null: CString,
    cwd: Option<CString>,
    new_session: bool,
    process_group: Option<libc::pid_t>,
    foreground: bool,
    controlling_tty: bool,
    credentials: Option<Credentials>,
    umask: Option<libc::mode_t>,
    nice: Option<i32>,
    detach: bool,
    keep: Option<KeepFd>,
    /// Detached spawns: the pipe the intermediate and the grandchild report through
    /// (read end, write end), both above the kept descriptor.
    report: Option<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)>,
    /// Copies of low source descriptors, closed when this is dropped.
    held: Vec<std::os::fd::OwnedFd>,
    /// Written by the child: the errno of the step that failed.
    error: libc::c_int,
    stack: ChildStack,
}

impl Prepared {
    /// A source descriptor below 3 could be overwritten by an earlier `dup2` in the
    /// child (stdout given as the child's stdin, say): copy such sources above 2 first.
    fn lift_low_sources(&mut self) -> io::Result<()> {
        for slot in 0..3 {
            if let Stdio::Fd(fd) = self.stdio[slot] {
                if fd < 3 && fd != slot as RawFd {
                    let owned = dup_above(fd, 3)?;
                    self.stdio[slot] = Stdio::Fd(owned.as_raw_fd());
                    self.held.push(owned);
                }
            }
        }
        Ok(())
    }

    /// Checks the kept descriptor, moves its source off 0-2, and opens the report pipe
    /// of a detached spawn above every number the child will use.
    fn prepare_keep_and_report(&mut self) -> io::Result<()> {
        let mut floor = 3;
        if let Some(keep) = &mut self.keep {
            if keep.target < 3 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a kept descriptor must be 3 or above",
                ));
            }
            if keep.source < 3 {
                let copy = dup_above(keep.source, 3)?;
                keep.source = copy.as_raw_fd();
                self.held.push(copy);
            }
            floor = keep.target + 1;
        }
        if self.detach {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            let w = if w.as_raw_fd() < floor {
                dup_above(w.as_raw_fd(), floor)?
            } else {
                w
            };
            self.report = Some((r, w));
        }
        Ok(())
    }

    fn report_fd(&self) -> RawFd {
        self.report.as_ref().map_or(-1, |(_, w)| w.as_raw_fd())
    }

    /// Clones the child onto the prepared stack and waits (CLONE_VFORK) until it has
    /// exec'd or failed.
    ///
    /// # Safety
    /// `self` must hold valid pointers for everything the child reads, and stay alive and
    /// unmoved until this returns.
    unsafe fn clone_and_exec(&mut self) -> io::Result<Pid> {
        // Every signal blocked around the clone, so no parent handler runs on the shared
        // memory in the child; the child sets its own mask before exec.
        // SAFETY: sigset_t is plain data; sigfillset and pthread_sigmask fill and apply
        // sets we own.
        let old = unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            old
        };
        // 16-byte aligned, a little below the end of the stack we own.
        let top = self.stack.len() - 64;
        let stack_top = (self.stack[top..].as_mut_ptr() as usize & !15) as *mut libc::c_void;
        let this: *mut Prepared = self;
        // SAFETY: the child runs `child_main` on its own stack with a pointer to `self`,
        // which outlives it: CLONE_VFORK suspends this thread until the child exec'd or
        // exited.
        let pid = unsafe {
            libc::clone(
                child_main,
                stack_top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                this.cast(),
            )
        };
        let clone_errno = io::Error::last_os_error();
        // SAFETY: restoring the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        if pid < 0 {
            return Err(clone_errno);
        }
        // SAFETY: the child is done with `self` (exec'd or exited): a plain read, kept
        // volatile because the child wrote it behind the compiler's back.
        let error = unsafe { std::ptr::read_volatile(&self.error) };
        if error != 0 {
            // The child exited with 127 after a failed step: reap it here.
            let mut status = 0;
            // SAFETY: waitpid on our own child with a status we own.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            return Err(io::Error::from_raw_os_error(error));
        }
        Ok(Pid::from_raw(pid))
    }
}

/// The child side: raw system calls only (see the module comment).
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    let p = arg as *mut Prepared;
    let mut detached = false;
    // SAFETY: the parent is suspended (CLONE_VFORK) and `p` points at its Prepared, which
    // it keeps alive until this child has exec'd or exited.
    let code = unsafe { child_steps(&*p, &mut detached) };
    // Only reached on failure: record why and leave without running any destructor.
    // A detached grandchild has its own copy of memory: it reports through the pipe.
    if detached {
        // SAFETY: `p` is valid as above; `report` writes to a descriptor only.
        unsafe { report(&*p, REPORT_ERRNO, code) };
    } else {
        // SAFETY: the parent reads `error` only after this child has exited or exec'd;
        // the volatile write keeps the store from being elided.
        unsafe { std::ptr::write_volatile(std::ptr::addr_of_mut!((*p).error), code) };
    }
    // SAFETY: exit(2) without running atexit handlers or destructors, which belong to
    // the parent whose memory this child shares.
    unsafe { libc::syscall(libc::SYS_exit, 127) };
    127
}

/// A failed step: the errno to report.
type Step = Result<(), libc::c_int>;

/// The errno of the last failed system call.
fn errno() -> libc::c_int {
    // SAFETY: reading this thread's errno location.
    unsafe { *libc::__errno_location() }
}

/// `rc < 0` as the step's failure.
fn check(rc: impl Into<i64>) -> Step {
    if rc.into() < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Everything between the clone and execve, in order; returns the errno of the step that
/// failed (execve returns only on failure).
///
/// # Safety
/// Runs in a `CLONE_VM` child (or, for [`Spawn::exec`], in the process itself with every
/// signal blocked): only raw system calls on `p`, which must stay valid and unchanged.
unsafe fn child_steps(p: &Prepared, detached: &mut bool) -> libc::c_int {
    let mut steps = || -> Step {
        reset_signal_dispositions(p.reset_signals);
        enter_session(p)?;
        if p.detach {
            // SAFETY: as for child_steps.
            unsafe { fork_again(p)? };
            *detached = true;
        }
        // SAFETY: as for child_steps.
        unsafe { connect_stdio(p)? };
        take_terminal(p);
        keep_descriptor(p)?;
        // Exactly 0-2 (and the kept descriptor) survive exec, whatever a library opened
        // without close-on-exec; the report pipe is close-on-exec and goes at exec. (Only
        // this child's descriptor table is touched: CLONE_FILES is not set.)
        close_all_but(p.keep.map_or(-1, |k| k.target), p.report_fd());
        enter_directory(p)?;
        set_umask_and_priority(p)?;
        drop_privileges(p)?;
        lock_kept(p)?;
        unblock_signals();
        Err(execute(p))
    };
    match steps() {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// Default dispositions for every signal in `reset` (bit N-1 for signal N; the mask was
/// all-blocked since before the clone, so no handler of the parent can run here
/// meanwhile).
fn reset_signal_dispositions(reset: u64) {
    // The kernel's struct sigaction, all zero: SIG_DFL, no flags, empty mask.
    let dfl = [0usize; 4];
    for sig in 1..=64 {
        if reset & (1u64 << (sig - 1)) != 0 && sig != libc::SIGKILL && sig != libc::SIGSTOP {
            // SAFETY: rt_sigaction with a valid struct and no old-action pointer.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<usize>(),
                    8usize,
                )
            };
        }
    }
}

/// A session of its own, or a process group.
fn enter_session(p: &Prepared) -> Step {
    if p.new_session {
        // SAFETY: setsid has no arguments.
        check(unsafe { libc::setsid() })
    } else if let Some(group) = p.process_group {
        // SAFETY: setpgid on this process.
        check(unsafe { libc::setpgid(0, group) })
    } else {
        Ok(())
    }
}

/// A daemon's second fork: the intermediate reports the grandchild's pid and exits; the
/// grandchild goes on (and is not a session leader).
///
/// # Safety
/// As [`child_steps`]: a plain fork (no CLONE_VM), so the grandchild has its own copy
/// of memory; the intermediate exits at once without touching shared state.
unsafe fn fork_again(p: &Prepared) -> Step {
    // SAFETY: clone(SIGCHLD) is fork(2) without glibc's atfork handlers.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) };
    check(pid)?;
    if pid > 0 {
        // SAFETY: `report` writes to the report pipe; exit(2) skips destructors.
        unsafe {
            report(p, REPORT_PID, pid as i32);
            libc::syscall(libc::SYS_exit, 0);
        }
    }
    Ok(())
}

/// The standard descriptors as configured.
///
/// # Safety
/// As [`child_steps`]: the descriptors named in `p.stdio` are open.
unsafe fn connect_stdio(p: &Prepared) -> Step {
    for (slot, stdio) in p.stdio.iter().enumerate() {
        let target = slot as libc::c_int;
        match *stdio {
            Stdio::Inherit => {}
            Stdio::Fd(fd) if fd == target => {}
            // SAFETY: dup2 between descriptors this process holds.
            Stdio::Fd(fd) => check(unsafe { libc::dup2(fd, target) })?,
            Stdio::Null => {
                // SAFETY: open with a NUL-terminated path prepared by the parent.
                let fd = unsafe { libc::open(p.dev_null.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
                check(fd)?;
                // SAFETY: dup2 and close of the descriptor just opened.
                unsafe {
                    check(libc::dup2(fd, target))?;
                    libc::close(fd);
                }
            }
        }
    }
    Ok(())
}

/// The terminal on stdin as controlling terminal, and/or its foreground group.
fn take_terminal(p: &Prepared) {
    // SAFETY: isatty and ioctl on descriptor 0 with arguments of the right types.
    unsafe {
        if p.controlling_tty && p.new_session && libc::isatty(0) == 1 {
            // Best effort: without the terminal the script still runs, as with sysvinit.
            libc::ioctl(0, libc::TIOCSCTTY, 1);
        }
        if p.foreground && libc::isatty(0) == 1 {
            // Allowed from a background group because SIGTTOU is still blocked here.
            let pgid = libc::getpgrp();
            libc::ioctl(0, libc::TIOCSPGRP, &pgid);
        }
    }
}

/// The one descriptor kept beyond 0-2, at its number, surviving exec.
fn keep_descriptor(p: &Prepared) -> Step {
    let Some(keep) = &p.keep else {
        return Ok(());
    };
    if keep.source == keep.target {
        // SAFETY: clearing FD_CLOEXEC on a descriptor this process holds.
        check(unsafe { libc::fcntl(keep.target, libc::F_SETFD, 0) })
    } else {
        // SAFETY: dup2 between descriptors this process holds (dup2 clears FD_CLOEXEC).
        check(unsafe { libc::dup2(keep.source, keep.target) })
    }
}

fn enter_directory(p: &Prepared) -> Step {
    match &p.cwd {
        // SAFETY: chdir with a NUL-terminated path prepared by the parent.
        Some(dir) => check(unsafe { libc::chdir(dir.as_ptr()) }),
        None => Ok(()),
    }
}

fn set_umask_and_priority(p: &Prepared) -> Step {
    if let Some(mask) = p.umask {
        // SAFETY: umask cannot fail.
        unsafe { libc::umask(mask) };
    }
    match p.nice {
        // SAFETY: setpriority of this process.
        Some(nice) => check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }),
        None => Ok(()),
    }
}

/// Supplementary groups, group, then user: raw system calls, so that glibc does not
/// signal the parent's threads to change theirs too (they share this memory, not these
/// credentials).
fn drop_privileges(p: &Prepared) -> Step {
    let Some(c) = &p.credentials else {
        return Ok(());
    };
    // SAFETY: the credential system calls with a groups array prepared by the parent.
    unsafe {
        check(libc::syscall(
            libc::SYS_setgroups,
            c.groups.len(),
            c.groups.as_ptr(),
        ))?;
        check(libc::syscall(libc::SYS_setresgid, c.gid, c.gid, c.gid))?;
        check(libc::syscall(libc::SYS_setresuid, c.uid, c.uid, c.uid))
    }
}

/// The kept descriptor (a pidfile) read-locked by the program's own process: the lock
/// lives as long as the program.
fn lock_kept(p: &Prepared) -> Step {
    let Some(keep) = p.keep.filter(|k| k.read_lock) else {
        return Ok(());
    };
    // SAFETY: an all-zero flock is a valid value; F_SETLK reads it.
    unsafe {
        let mut lock: libc::flock = std::mem::zeroed();
        lock.l_type = libc::F_RDLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        check(libc::fcntl(keep.target, libc::F_SETLK, &lock))
    }
}

/// The empty mask the program starts with (the last step before execve).
fn unblock_signals() {
    // SAFETY: rt_sigprocmask with an empty set we own.
    unsafe {
        let empty: libc::sigset_t = std::mem::zeroed();
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty,
            std::ptr::null_mut::<libc::sigset_t>(),
            8usize,
        );
    }
}

/// execve; returns its errno (it returns only on failure).
fn execute(p: &Prepared) -> libc::c_int {
    // SAFETY: execve with NUL-terminated strings and NULL-terminated pointer arrays
    // prepared by the parent and alive until here.
    unsafe {
        libc::execve(
            p.program.as_ptr(),
            p.argv_ptrs.as_ptr(),
            p.envp_ptrs.as_ptr(),
        )
    };
    errno()
}

/// Closes every descriptor from 3 up except `keep_a` and `keep_b` (-1: none), where
/// `keep_a < keep_b` when both are given.
fn close_all_but(keep_a: RawFd, keep_b: RawFd) {
    let close = |lo: RawFd, hi: u32| {
        if lo >= 0 && (lo as u32) <= hi {
            // SAFETY: close_range on this child's own descriptor table.
            unsafe { libc::syscall(libc::SYS_close_range, lo as u32, hi, 0u32) };
        }
    };
    let mut from: RawFd = 3;
    for keep in [keep_a, keep_b] {
        if keep >= from {
            close(from, keep as u32 - 1);
            from = keep + 1;
        }
    }
    close(from, u32::MAX);
}

const REPORT_PID: i32 = 1;
const REPORT_ERRNO: i32 = 2;

/// One record on the report pipe: a kind and a value, written at once (atomic: it is
/// shorter than PIPE_BUF).
///
/// # Safety
/// Called in the child: writes to the report pipe only.
unsafe fn report(p: &Prepared, kind: i32, value: i32) {
    let fd = p.report_fd();
    if fd >= 0 {
        let record = [kind, value];
        // SAFETY: write of a local array to a descriptor we hold.
        unsafe { libc::write(fd, record.as_ptr().cast(), std::mem::size_of_val(&record)) };
    }
}

fn dup_above(fd: RawFd, floor: RawFd) -> io::Result<std::os::fd::OwnedFd> {
    // SAFETY: the caller's descriptor stays open for this call.
    let copy = nix::fcntl::fcntl(
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(floor),
    )?;
    // SAFETY: fcntl returned a new descriptor that we own.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(copy) })
}

/// Reaps the intermediate child of a detached spawn (it exits right after forking).
fn wait_intermediate(pid: Pid) {
    loop {
        match nix::sys::wait::waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
    }
}

/// Reads the report pipe to its end: the grandchild's pid, then its errno if a step
/// failed (end of file without one means it exec'd).
fn read_detach_report(reader: std::os::fd::OwnedFd) -> io::Result<Pid> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::from(reader).read_to_end(&mut bytes)?;
    let mut pid = None;
    for record in bytes.chunks_exact(8) {
        let kind = i32::from_ne_bytes([record[0], record[1], record[2], record[3]]);
        let value = i32::from_ne_bytes([record[4], record[5], record[6], record[7]]);
        match kind {
            REPORT_PID => pid = Some(Pid::from_raw(value)),
            REPORT_ERRNO => return Err(io::Error::from_raw_os_error(value)),
            _ => {}
        }
    }
    pid.ok_or_else(|| io::Error::other("the detached child vanished before reporting"))
}

/// A readable description of a spawn failure, like the shell's (`foo: No such file or
/// directory`).
pub fn describe_spawn_error(program: &Path, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound && e.raw_os_error().is_none() {
        return e.to_string();
    }
    format!("{}: {}", program.display(), crate::sys::describe_io(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};
    use std::io::Read;

    fn run_capture(spawn: &mut Spawn) -> (i32, String) {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        spawn.stdout = Stdio::Fd(w.as_raw_fd());
        let pid = spawn.spawn().unwrap();
        drop(w);
        let mut out = String::new();
        std::fs::File::from(r).read_to_string(&mut out).unwrap();
        let code = match waitpid(pid, None).unwrap() {
            WaitStatus::Exited(_, c) => c,
            other => panic!("{other:?}"),
        };
        (code, out)
    }

    #[test]
    fn clean_environment_args_and_exit_status() {
        let mut s = Spawn::new("/bin/sh");
        s.args([
            "-c",
            "echo \"$0|$1|$FOO|${HOME-unset}\"; exit 3",
            "zero",
            "one",
        ])
        .env("FOO", "bar");
        assert_eq!(run_capture(&mut s), (3, "zero|one|bar|unset\n".to_string()));
    }

    #[test]
    fn signal_mask_and_dispositions_are_reset() {
        use nix::sys::signal::{signal, SigHandler, SigSet, Signal};
        // Block TERM and ignore HUP here, as init does; the child must see neither.
        let mut set = SigSet::empty();
        set.add(Signal::SIGTERM);
        let old = set
            .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK)
            .unwrap();
        // SAFETY: SIG_IGN and the previous disposition run no handler code.
        let old_hup = unsafe { signal(Signal::SIGHUP, SigHandler::SigIgn) }.unwrap();
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status"]);
        let (_, out) = run_capture(&mut s);
        old.thread_set_mask().unwrap();
        // SAFETY: as above.
        unsafe { signal(Signal::SIGHUP, old_hup) }.unwrap();
        for line in out.lines() {
            let mask = u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap();
            assert_eq!(mask & ((1 << 14) | (1 << 0)), 0, "{line}");
        }
    }

    #[test]
    fn only_standard_descriptors_survive() {
        // A descriptor without close-on-exec must still not leak.
        // SAFETY: a NUL-terminated path; the descriptor is closed below.
        let leaky = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
        assert!(leaky > 2);
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "ls /proc/self/fd"]);
        let (_, out) = run_capture(&mut s);
        // SAFETY: the descriptor opened above, owned by nothing else.
        unsafe { libc::close(leaky) };
        // ls itself opens the directory: 0 1 2 and that one.
        let fds: Vec<i32> = out.split_whitespace().map(|f| f.parse().unwrap()).collect();
        assert!(fds.len() <= 4 && fds[..3] == [0, 1, 2], "{fds:?}");
    }

    #[test]
    fn missing_program_is_an_error_not_a_child() {
        let err = Spawn::new("/nonexistent/prog").spawn().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        let err = Spawn::new("no-such-command-anywhere").spawn().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(describe_spawn_error(Path::new("x"), &err).contains("command not found"));
    }

    #[test]
    fn new_session_and_cwd() {
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "pwd; cut -d' ' -f6 /proc/$$/stat"])
            .env("PATH", crate::sys::DEFAULT_PATH);
        s.new_session = true;
        s.cwd = Some(PathBuf::from("/tmp"));
        let (code, out) = run_capture(&mut s);
        assert_eq!(code, 0);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("/tmp"));
        let sid: i32 = lines.next().unwrap().trim().parse().unwrap();
        assert_ne!(sid, nix::unistd::getsid(None).unwrap().as_raw());
    }

    fn lock_holder(file: &std::fs::File) -> Option<i32> {
        // SAFETY: flock is plain data; all zeroes is a valid value.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as libc::c_short;
        assert_eq!(
            // SAFETY: an open descriptor and a valid flock for F_GETLK to fill.
            unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) },
            0
        );
        (lock.l_type != libc::F_UNLCK as libc::c_short).then_some(lock.l_pid)
    }

    #[test]
    fn detached_child_is_a_grandchild_outside_our_session() {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "echo $$; cut -d' ' -f4,6 /proc/$$/stat"])
            .env("PATH", crate::sys::DEFAULT_PATH);
        s.new_session = true;
        s.detach = true;
        s.stdout = Stdio::Fd(w.as_raw_fd());
        let pid = s.spawn().unwrap();
        drop(w);
        let mut out = String::new();
        std::fs::File::from(r).read_to_string(&mut out).unwrap();
        let mut lines = out.lines();
        assert_eq!(lines.next().unwrap().parse::<i32>().unwrap(), pid.as_raw());
        let fields: Vec<i32> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|f| f.parse().unwrap())
            .collect();
        let (ppid, sid) = (fields[0], fields[1]);
        assert_ne!(ppid, std::process::id() as i32, "reparented away from us");
        assert_ne!(sid, pid.as_raw(), "not a session leader");
        assert_ne!(sid, nix::unistd::getsid(None).unwrap().as_raw());
        // Not our child: nothing to wait for.
        assert!(waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)).is_err());
    }

    #[test]
    fn detached_exec_failure_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let prog = tmp.path().join("not-executable");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        let mut s = Spawn::new(&prog);
        s.new_session = true;
        s.detach = true;
        let err = s.spawn().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    }

    #[test]
    fn kept_descriptor_survives_locked_by_the_program() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lockfile");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "ls /proc/$$/fd; exec sleep 30"])
            .env("PATH", crate::sys::DEFAULT_PATH);
        s.new_session = true;
        s.detach = true;
        s.stdout = Stdio::Fd(w.as_raw_fd());
        s.keep_fd = Some(KeepFd {
            source: file.as_raw_fd(),
            target: 9,
            read_lock: true,
        });
        let pid = s.spawn().unwrap();
        drop(w);
        // The lock is taken before exec, so it is there as soon as spawn returns.
        assert_eq!(lock_holder(&file), Some(pid.as_raw()));
        let mut reader = std::io::BufReader::new(std::fs::File::from(r));
        let mut fds = String::new();
        for _ in 0..4 {
            std::io::BufRead::read_line(&mut reader, &mut fds).unwrap();
        }
        assert_eq!(
            fds.split_whitespace().collect::<Vec<_>>(),
            ["0", "1", "2", "9"]
        );
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while lock_holder(&file).is_some() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(lock_holder(&file), None, "the lock dies with the program");
    }

    #[test]
    fn credentials_are_dropped() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", "id -u; id -g; id -G"])
            .env("PATH", crate::sys::DEFAULT_PATH);
        s.credentials = Some(Credentials {
            uid: 65534,
            gid: 65534,
            groups: vec![65534],
        });
        let (_, out) = run_capture(&mut s);
        assert_eq!(out, "65534\n65534\n65534\n");
    }
}
