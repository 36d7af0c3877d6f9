//! inittab: the default that ships with vinit.

/// The inittab used when a root has none (the repository's `inittab`, embedded).
pub const DEFAULT_INITTAB: &str = include_str!("../../inittab");
