//! Where the superserver's messages go: its own (starts, reloads, errors) to syslog
//! when `dev/log` listens, else to a file or stderr; a service's START/EXIT/FAIL lines
//! to the target of its `log_type`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::format::syslog::{Facility, Priority, Severity};
use crate::plan::superserver::LogTarget;
use crate::sys::syslog::SyslogClient;

/// The superserver's own log, as chosen on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MainLog {
    /// Syslog (facility daemon) when `dev/log` exists, else `fallback` (None: stderr).
    Auto {
        fallback: Option<PathBuf>,
    },
    Syslog(Facility),
    File(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Sink {
    Syslog(Facility),
    File(PathBuf),
    Stderr,
}

struct LogFile {
    file: File,
    size: u64,
    warned: bool,
    full: bool,
}

pub(crate) struct Logs {
    tag: String,
    choice: MainLog,
    sink: Sink,
    /// Also copy the superserver's own messages to stderr (foreground, -d).
    echo: bool,
    dev_log: PathBuf,
    syslog: Option<SyslogClient>,
    files: HashMap<PathBuf, LogFile>,
    pid: u32,
}

impl Logs {
    pub(crate) fn new(tag: &str, choice: MainLog, dev_log: PathBuf, echo: bool) -> Logs {
        let mut logs = Logs {
            tag: tag.to_string(),
            choice,
            sink: Sink::Stderr,
            echo,
            dev_log,
            syslog: None,
            files: HashMap::new(),
            pid: std::process::id(),
        };
        logs.reopen();
        logs
    }

    /// Closes the log files (a rotated file is reopened at its name on the next line)
    /// and looks for a syslog daemon again. Called at start and on every reload.
    pub(crate) fn reopen(&mut self) {
        self.files.clear();
        self.pid = std::process::id();
        let listening = self.dev_log.exists();
        self.syslog = listening.then(|| SyslogClient::new(&self.dev_log));
        self.sink = match &self.choice {
            MainLog::Auto { .. } if listening => Sink::Syslog(Facility::DAEMON),
            MainLog::Auto { fallback: Some(f) } => Sink::File(f.clone()),
            MainLog::Auto { fallback: None } => Sink::Stderr,
            MainLog::Syslog(f) => Sink::Syslog(*f),
            MainLog::File(p) => Sink::File(p.clone()),
        };
        if let Sink::File(path) = &self.sink {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
    }

    /// The superserver no longer has a terminal (it went to the background).
    pub(crate) fn detach(&mut self) {
        self.echo = false;
        self.pid = std::process::id();
    }

    /// Whether the superserver's own messages are also copied to stderr.
    pub(crate) fn set_echo(&mut self, echo: bool) {
        self.echo = echo;
    }

    pub(crate) fn info(&mut self, message: &str) {
        self.main(Severity::Info, message);
    }

    pub(crate) fn warn(&mut self, message: &str) {
        self.main(Severity::Warning, message);
    }

    pub(crate) fn error(&mut self, message: &str) {
        self.main(Severity::Err, message);
    }

    pub(crate) fn main(&mut self, severity: Severity, message: &str) {
        let sent = match self.sink.clone() {
            Sink::Syslog(facility) => self.send_syslog(Priority::new(facility, severity), message),
            Sink::File(path) => self.append_file(&path, None, None, message),
            Sink::Stderr => false,
        };
        if !sent || self.echo {
            eprintln!("{}: {message}", self.tag);
        }
    }

    /// A line about one service, to its `log_type`.
    pub(crate) fn service(&mut self, target: &LogTarget, message: &str) {
        match target {
            LogTarget::Main => self.main(Severity::Info, message),
            LogTarget::Syslog { facility, severity } => {
                if !self.send_syslog(Priority::new(*facility, *severity), message) {
                    self.main(*severity, message);
                }
            }
            LogTarget::File { path, soft, hard } => {
                if !self.append_file(path, *soft, *hard, message) && !self.is_full(path) {
                    self.main(Severity::Info, message);
                }
            }
        }
    }

    fn send_syslog(&mut self, priority: Priority, message: &str) -> bool {
        let pid = self.pid;
        match self.syslog.as_mut() {
            Some(client) => client.send(priority, &self.tag, Some(pid), message).is_ok(),
            None => false,
        }
    }

    fn is_full(&self, path: &Path) -> bool {
        self.files.get(path).is_some_and(|f| f.full)
    }

    /// Appends a line; false when the file cannot be written (or is full).
    fn append_file(
        &mut self,
        path: &Path,
        soft: Option<u64>,
        hard: Option<u64>,
        message: &str,
    ) -> bool {
        if !self.files.contains_key(path) {
            let Ok(file) = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o640)
                .open(path)
            else {
                return false;
            };
            let size = file.metadata().map_or(0, |m| m.len());
            self.files.insert(
                path.to_path_buf(),
                LogFile {
                    file,
                    size,
                    warned: false,
                    full: false,
                },
            );
        }
        let line = format!(
            "{} {}[{}]: {message}\n",
            crate::sys::local_time_string(),
            self.tag,
            self.pid
        );
        let Some(f) = self.files.get_mut(path) else {
            return false;
        };
        if f.full {
            return false;
        }
        if hard.is_some_and(|h| f.size + line.len() as u64 > h) {
            f.full = true;
            let note = format!(
                "log file {} reached its hard limit ({} bytes): nothing more is written to it",
                path.display(),
                hard.unwrap_or_default()
            );
            self.main(Severity::Alert, &note);
            return false;
        }
        if f.file.write_all(line.as_bytes()).is_err() {
            return false;
        }
        f.size += line.len() as u64;
        if !f.warned && soft.is_some_and(|s| f.size > s) {
            f.warned = true;
            let note = format!(
                "log file {} is past its soft limit ({} bytes)",
                path.display(),
                soft.unwrap_or_default()
            );
            self.main(Severity::Alert, &note);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_limits() {
        let tmp = tempfile::tempdir().unwrap();
        let main = tmp.path().join("main.log");
        let svc = tmp.path().join("svc.log");
        let mut logs = Logs::new(
            "xinetd",
            MainLog::Auto {
                fallback: Some(main.clone()),
            },
            tmp.path().join("no-dev-log"),
            false,
        );
        let target = LogTarget::File {
            path: svc.clone(),
            soft: Some(100),
            hard: Some(200),
        };
        for i in 0..10 {
            logs.service(&target, &format!("START: echo from=127.0.0.{i}"));
        }
        let written = std::fs::read_to_string(&svc).unwrap();
        assert!(written.len() <= 200, "{written}");
        assert!(written.lines().count() >= 2);
        let main_text = std::fs::read_to_string(&main).unwrap();
        assert!(main_text.contains("past its soft limit"), "{main_text}");
        assert!(main_text.contains("reached its hard limit"), "{main_text}");
        assert_eq!(main_text.lines().count(), 2, "{main_text}");
    }

    #[test]
    fn syslog_when_it_listens() {
        let tmp = tempfile::tempdir().unwrap();
        let dev_log = tmp.path().join("log");
        let server = std::os::unix::net::UnixDatagram::bind(&dev_log).unwrap();
        let mut logs = Logs::new("xinetd", MainLog::Auto { fallback: None }, dev_log, false);
        logs.error("bind failed");
        logs.service(
            &LogTarget::Syslog {
                facility: Facility::from_name("auth").unwrap(),
                severity: Severity::Notice,
            },
            "FAIL: ftp address from=10.0.0.1",
        );
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).unwrap();
        let first = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            first.starts_with("<27>") && first.ends_with("]: bind failed"),
            "{first}"
        );
        let n = server.recv(&mut buf).unwrap();
        let second = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(second.starts_with("<37>"), "{second}");
    }
}
