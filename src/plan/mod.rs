//! Pure planners: data in, plan out. They decide; the `sys` layer and the tools act.

pub mod access;
pub mod deps;
pub mod inittab;
pub mod priorities;
pub mod rc;
pub mod relink;
pub mod schedule;
pub mod services;
pub mod stop;
pub mod superserver;
