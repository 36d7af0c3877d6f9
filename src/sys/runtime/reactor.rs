//! Readiness: an epoll set of descriptors, each with a token the loop chose, waited on
//! until a deadline.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

pub type Token = u64;

/// What a descriptor is watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Read,
    Write,
    ReadWrite,
}

impl Interest {
    fn flags(self) -> EpollFlags {
        match self {
            Interest::Read => EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP,
            Interest::Write => EpollFlags::EPOLLOUT,
            Interest::ReadWrite => {
                EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLOUT
            }
        }
    }
}

/// What a descriptor is ready for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ready {
    pub token: Token,
    pub readable: bool,
    pub writable: bool,
    /// Hung up or in error: reading tells which.
    pub closed: bool,
}

pub struct Reactor {
    epoll: Epoll,
    events: Vec<EpollEvent>,
}

impl Reactor {
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
            events: vec![EpollEvent::empty(); 64],
        })
    }

    pub fn add(&self, fd: BorrowedFd<'_>, token: Token, interest: Interest) -> io::Result<()> {
        Ok(self
            .epoll
            .add(fd, EpollEvent::new(interest.flags(), token))?)
    }

    pub fn modify(&self, fd: BorrowedFd<'_>, token: Token, interest: Interest) -> io::Result<()> {
        let mut event = EpollEvent::new(interest.flags(), token);
        Ok(self.epoll.modify(fd, &mut event)?)
    }

    /// Stops watching (closing the descriptor does too, if it has no duplicate).
    pub fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        Ok(self.epoll.delete(fd)?)
    }

    /// Waits until something is ready or `deadline` passes (None: no deadline). An
    /// interrupted wait returns nothing.
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Vec<Ready>> {
        let ms = super::timers::wait_millis(deadline);
        let timeout = EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::NONE);
        let n = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(e.into()),
        };
        if n == self.events.len() {
            // Busy: take more next time.
            self.events.resize(n * 2, EpollEvent::empty());
        }
        Ok(self.events[..n]
            .iter()
            .map(|e| {
                let f = e.events();
                Ready {
                    token: e.data(),
                    readable: f.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLPRI),
                    writable: f.contains(EpollFlags::EPOLLOUT),
                    closed: f.intersects(
                        EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR | EpollFlags::EPOLLRDHUP,
                    ),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    #[test]
    fn tokens_come_back_with_what_is_ready() {
        let mut reactor = Reactor::new().unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        reactor.add(b.as_fd(), 7, Interest::Read).unwrap();
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(reactor.wait(Some(soon)).unwrap().is_empty());
        a.write_all(b"x").unwrap();
        let ready = reactor.wait(None).unwrap();
        assert_eq!(ready.len(), 1);
        assert!(ready[0].readable && ready[0].token == 7);
        drop(a);
        let ready = reactor.wait(None).unwrap();
        assert!(ready[0].closed);
    }
}
