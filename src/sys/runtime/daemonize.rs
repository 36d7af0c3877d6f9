//! Going to the background the way a SysV daemon does: fork, new session, standard
//! descriptors on `/dev/null`, working directory `/`. The parent waits until the child
//! says it is serving, so that an init script that returns has a running daemon behind
//! it — or an exit status that says why not (the child's errors still reach the
//! terminal until then).

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

use nix::unistd::{fork, pipe2, setsid, ForkResult};

/// Held by the child until it serves.
pub struct Ready {
    pipe: OwnedFd,
}

pub enum Forked {
    /// In the parent: the exit status to leave with (0: the daemon serves).
    Parent(i32),
    Child(Ready),
}

/// Forks. Must be called while the process has a single thread.
pub fn daemonize() -> io::Result<Forked> {
    let (reader, writer) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: the daemons call this before starting any thread, so the child may run
    // any code.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            drop(writer);
            let mut status = [0u8; 1];
            let mut file = std::fs::File::from(reader);
            let ok = matches!(file.read(&mut status), Ok(1)) && status[0] == b'1';
            Ok(Forked::Parent(if ok { 0 } else { 1 }))
        }
        ForkResult::Child => {
            drop(reader);
            setsid()?;
            let _ = std::env::set_current_dir("/");
            Ok(Forked::Child(Ready { pipe: writer }))
        }
    }
}

impl Ready {
    /// Tells the parent all is well, and lets go of the terminal. (Dropped without this,
    /// the parent exits 1.)
    pub fn done(self) {
        let mut file = std::fs::File::from(self.pipe);
        let _ = file.write_all(b"1");
        drop(file);
        crate::sys::silence_stdio();
    }
}
