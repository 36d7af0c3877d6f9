//! vinit: a SysV-style init system and service manager in one multi-call binary.
//!
//! Layers, from the bottom:
//! - `format`: pure parsers and writers for the files and names of the SysV world;
//! - `plan`: pure planners that decide what runs, in which order;
//! - `sys`: the thin layer that touches the system (layout, spawning, links);
//! - `tools`: one module per tool, its command line and its output;
//! - `cli`: the multi-call dispatcher;
//! - `error`: the error types of the layers, turned into a message and an exit status
//!   once, at a tool's edge.

//!
//! The library exists for the binary and the integration tests: its public surface is
//! the dispatcher, the tool table and the utmp reader the tests check init's records
//! with. Everything else is crate-private, so the compiler reports what nothing uses.

pub mod cli;
pub(crate) mod error;
pub mod format;
pub(crate) mod plan;
pub(crate) mod sys;
pub mod tools;
