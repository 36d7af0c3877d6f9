//! Pure parsers and writers for the file formats and names of the SysV world. No I/O
//! beyond the bytes they are given.

pub mod boot_report;
pub mod depend;
pub mod facilities;
pub mod header;
pub mod inetd_conf;
pub mod init_state;
pub mod initreq;
pub mod inittab;
pub mod json;
pub mod levelset;
pub mod link_journal;
pub mod proc_locks;
pub mod procstat;
pub mod rclink;
pub mod runlevel;
pub mod services;
pub mod shell_vars;
pub mod syslog;
pub mod syslog_conf;
pub mod syslog_msg;
pub mod utmp;
pub mod words;
pub mod xinetd;
pub mod xinetd_edit;
