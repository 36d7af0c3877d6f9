//! The daemon core shared by init, the superserver, syslogd and rc's executor: one way
//! to take signals, wait for readiness and time, reap children, go to the background and
//! survive a panic. Each long-running part is then a loop of its own events over these
//! pieces (tini's shape: configure signals, spawn, loop { wait; reap }).
//!
//! - [`signals`]: the signals a process handles, blocked and read from a signalfd, their
//!   inherited dispositions reset (an ignored SIGCHLD inherited from a parent would make
//!   the kernel reap children behind the daemon's back);
//! - [`reactor`]: readiness of descriptors (epoll) with a deadline;
//! - [`timers`]: named deadlines, the next one, the expired ones;
//! - [`reap`]: every exited child, in one loop (signals coalesce);
//! - [`daemonize`]: fork, new session, and a readiness pipe so the caller's exit status
//!   says whether the daemon serves;
//! - [`guard`]: a panic inside a turn of a loop is logged, and the loop goes on.

pub mod daemonize;
pub mod guard;
pub mod reactor;
pub mod reap;
pub mod signals;
pub mod timers;
