//! Pure parsers and writers for the file formats and names of the SysV world. No I/O
//! beyond the bytes they are given.

pub(crate) mod boot_report;
pub(crate) mod depend;
pub(crate) mod facilities;
pub(crate) mod header;
pub(crate) mod inetd_conf;
pub(crate) mod init_state;
pub(crate) mod initreq;
pub(crate) mod inittab;
pub(crate) mod json;
pub(crate) mod levelset;
pub(crate) mod link_journal;
pub(crate) mod proc_locks;
pub(crate) mod procstat;
pub(crate) mod rclink;
pub(crate) mod runlevel;
pub(crate) mod services;
pub(crate) mod shell_vars;
pub(crate) mod syslog;
pub(crate) mod syslog_conf;
pub(crate) mod syslog_msg;
pub mod utmp;
pub(crate) mod words;
pub(crate) mod xinetd;
pub(crate) mod xinetd_edit;
