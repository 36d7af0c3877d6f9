//! vinit: a SysV-style init system and service manager in one multi-call binary.
//!
//! Layers, from the bottom:
//! - [`format`]: pure parsers and writers for the files and names of the SysV world;
//! - [`plan`]: pure planners that decide what runs, in which order;
//! - [`sys`]: the thin layer that touches the system (layout, spawning, links);
//! - [`tools`]: one module per tool, its command line and its output;
//! - [`cli`]: the multi-call dispatcher;
//! - [`error`]: the error types of the layers, turned into a message and an exit status
//!   once, at a tool's edge.

pub mod cli;
pub mod error;
pub mod format;
pub mod plan;
pub mod sys;
pub mod tools;
