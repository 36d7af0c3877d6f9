//! A panic inside one turn of a daemon's loop is caught, logged, and the loop goes on:
//! PID 1 must never exit (the kernel panics, or a container dies), and a superserver or
//! syslogd that dies on one bad request takes every service with it. The release build
//! keeps `panic = "unwind"` for this.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs one turn; a panic in it is logged as an internal error of `who` and swallowed.
/// True when the turn completed.
pub fn turn(who: &str, f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            log::error!("{who}: internal error, continuing: {what}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_turn_is_survived() {
        let mut turns = 0;
        for n in 0..3 {
            let done = turn("test", || {
                turns += 1;
                if n == 1 {
                    panic!("boom");
                }
            });
            assert_eq!(done, n != 1);
        }
        assert_eq!(turns, 3);
    }
}
