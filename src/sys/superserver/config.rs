//! Reading the configuration: `xinetd.conf` with its `include`d files and `includedir`
//! directories, `inetd.conf`, `etc/services`; and the name lookups the planner needs.
//!
//! A file that cannot be read or split into entries makes the whole configuration
//! unusable (the caller keeps the one in force); a bad service only disables itself.
//! Paths written in a file are used as written; a relative one is taken from the
//! directory of the file that names it.

use std::ffi::CString;
use std::fmt;
use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{AtPath, SysError};
use crate::format::inetd_conf::{self, InetdEntry};
use crate::format::services::Services;
use crate::format::xinetd::{self, include_dir_wants, Item, Origin, SyntaxError};
use crate::plan::superserver::{resolve, Identity, Lookup, LookupError, ServiceSet};

/// Which files to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sources {
    pub xinetd: Option<PathBuf>,
    pub inetd: Option<PathBuf>,
    pub services: PathBuf,
}

/// `include` inside `include` this deep is taken for a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Why the configuration cannot be used at all.
#[derive(Debug)]
pub(crate) enum ConfigError {
    /// A file that cannot be read (missing, not a regular file, too large).
    Unreadable(SysError),
    /// The directory of an `includedir` line.
    UnreadableDir { at: Origin, error: SysError },
    /// A file that cannot be split into entries.
    Syntax(SyntaxError),
    /// Includes nested deeper than MAX_INCLUDE_DEPTH, at this file.
    TooDeep(PathBuf),
    /// An error in a file read through the `include` line at `at`.
    Included { error: Box<ConfigError>, at: Origin },
}

impl crate::error::ToolError for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Unreadable(e) => write!(f, "cannot read {e}"),
            ConfigError::UnreadableDir { at, error } => {
                write!(f, "{at}: cannot read directory {error}")
            }
            ConfigError::Syntax(e) => write!(f, "{e}"),
            ConfigError::TooDeep(path) => write!(
                f,
                "{}: included more than {MAX_INCLUDE_DEPTH} levels deep (an include loop?)",
                path.display()
            ),
            ConfigError::Included { error, at } => write!(f, "{error} (included at {at})"),
        }
    }
}

/// Reads and resolves everything. Err: the configuration cannot be used at all.
pub(crate) fn load(sources: &Sources) -> Result<ServiceSet, ConfigError> {
    let mut items = Vec::new();
    if let Some(path) = &sources.xinetd {
        read_xinetd(path, 0, &mut items)?;
    }
    let mut entries: Vec<InetdEntry> = Vec::new();
    let mut line_errors = Vec::new();
    if let Some(path) = &sources.inetd {
        // Read along with xinetd.conf (-inetd_compat), a missing inetd.conf is no error:
        // there is just nothing in it.
        let optional = sources.xinetd.is_some() && !path.exists();
        if !optional {
            let conf = inetd_conf::parse(path, &read_text(path)?);
            entries = conf.entries;
            line_errors = conf.errors;
        }
    }
    let services = match crate::sys::fs::read_config_text(&sources.services) {
        Ok(text) => Services::parse(&text),
        // No database: no service name can be looked up (each one says so).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Services::default(),
        Err(e) => return Err(ConfigError::Unreadable(SysError::at(&sources.services, e))),
    };
    let mut set = resolve(&items, &entries, &services, &SystemLookup::new());
    set.errors.extend(
        line_errors
            .into_iter()
            .map(|e| crate::plan::superserver::Problem {
                at: e.at,
                service: None,
                message: e.message,
            }),
    );
    set.errors.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(set)
}

/// A configuration file: a regular file (a FIFO or a device would hang or never end
/// the read) of bounded size, read without blocking.
fn read_text(path: &Path) -> Result<String, ConfigError> {
    crate::sys::fs::read_config_text(path)
        .at(path)
        .map_err(ConfigError::Unreadable)
}

fn relative_to(base: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.parent().unwrap_or(Path::new("/")).join(p)
    }
}

/// Reads one xinetd file and, in place of its `include` and `includedir` lines, the
/// files they name.
fn read_xinetd(path: &Path, depth: usize, out: &mut Vec<Item>) -> Result<(), ConfigError> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(ConfigError::TooDeep(path.to_path_buf()));
    }
    let items = xinetd::parse(path, &read_text(path)?).map_err(ConfigError::Syntax)?;
    for item in items {
        match item {
            Item::Include { path: written, at } => {
                let target = relative_to(path, &written);
                read_xinetd(&target, depth + 1, out).map_err(|e| ConfigError::Included {
                    error: Box::new(e),
                    at,
                })?;
            }
            Item::IncludeDir { path: written, at } => {
                let dir = relative_to(path, &written);
                let files = include_dir_files(&dir)
                    .map_err(|error| ConfigError::UnreadableDir { at, error })?;
                for file in files {
                    read_xinetd(&file, depth + 1, out)?;
                }
            }
            other => out.push(other),
        }
    }
    Ok(())
}

/// The files `includedir` reads, in byte order of their names.
fn include_dir_files(dir: &Path) -> Result<Vec<PathBuf>, SysError> {
    let entries = std::fs::read_dir(dir).at(dir)?;
    let mut names: Vec<std::ffi::OsString> = entries
        .filter_map(Result::ok)
        .filter(|e| include_dir_wants(&e.file_name().to_string_lossy()))
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
        .map(|e| e.file_name())
        .collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// Lookups in the system's databases (NSS) and resolver.
pub(crate) struct SystemLookup {
    euid: u32,
}

impl SystemLookup {
    pub(crate) fn new() -> SystemLookup {
        SystemLookup {
            euid: nix::unistd::geteuid().as_raw(),
        }
    }
}

impl Default for SystemLookup {
    fn default() -> Self {
        SystemLookup::new()
    }
}

impl Lookup for SystemLookup {
    fn identity(
        &self,
        user: &str,
        group: Option<&str>,
        supplementary: bool,
    ) -> Result<Identity, LookupError> {
        use nix::unistd::{Gid, Group, Uid, User};
        let found = match user.parse::<u32>() {
            Ok(uid) => User::from_uid(Uid::from_raw(uid)),
            Err(_) => User::from_name(user),
        };
        let account = found
            .map_err(|e| LookupError::User(format!("user \"{user}\": {}", e.desc())))?
            .ok_or_else(|| LookupError::User(format!("unknown user \"{user}\"")))?;
        let gid = match group {
            None => account.gid,
            Some(g) => {
                let found = match g.parse::<u32>() {
                    Ok(gid) => Group::from_gid(Gid::from_raw(gid)),
                    Err(_) => Group::from_name(g),
                };
                found
                    .map_err(|e| LookupError::Group(format!("group \"{g}\": {}", e.desc())))?
                    .ok_or_else(|| LookupError::Group(format!("unknown group \"{g}\"")))?
                    .gid
            }
        };
        let uid = account.uid.as_raw();
        if self.euid != 0 && uid != self.euid {
            return Err(LookupError::User(format!(
                "cannot run servers as user \"{user}\": the superserver does not run as root"
            )));
        }
        let groups = if supplementary {
            let name = CString::new(account.name.as_bytes())
                .map_err(|_| LookupError::User(format!("invalid user name {:?}", account.name)))?;
            nix::unistd::getgrouplist(&name, gid)
                .map_err(|e| LookupError::Group(format!("groups of \"{user}\": {}", e.desc())))?
                .into_iter()
                .map(|g| g.as_raw())
                .collect()
        } else {
            Vec::new()
        };
        Ok(Identity {
            user: account.name,
            uid,
            gid: gid.as_raw(),
            groups,
        })
    }

    fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let addrs: Vec<IpAddr> = (host, 0)
            .to_socket_addrs()
            .map_err(|e| LookupError::Host(format!("cannot resolve host \"{host}\": {e}")))?
            .map(|a| a.ip())
            .collect();
        if addrs.is_empty() {
            return Err(LookupError::Host(format!("host \"{host}\" has no address")));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn includedir_in_byte_order_skipping_backups() {
        let tmp = tempfile::tempdir().unwrap();
        let etc = tmp.path().join("etc");
        let d = etc.join("xinetd.d");
        fs::create_dir_all(&d).unwrap();
        let svc = |port: u16| {
            format!("service s{port}\n{{\n type = INTERNAL UNLISTED\n port = {port}\n socket_type = stream\n wait = no\n}}\n")
        };
        fs::write(
            etc.join("xinetd.conf"),
            "includedir xinetd.d\ninclude extra.conf\n",
        )
        .unwrap();
        fs::write(etc.join("extra.conf"), "").unwrap();
        fs::write(d.join("B"), svc(2)).unwrap();
        fs::write(d.join("a"), svc(1)).unwrap();
        fs::write(d.join("a~"), "garbage").unwrap();
        fs::write(d.join("a.rpmnew"), "garbage").unwrap();
        fs::create_dir(d.join("subdir")).unwrap();
        let mut items = Vec::new();
        read_xinetd(&etc.join("xinetd.conf"), 0, &mut items).unwrap();
        let names: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Service { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        // Byte order: upper case first.
        assert_eq!(names, ["s2", "s1"]);
    }

    #[test]
    fn unreadable_or_broken_files_fail_the_whole_load() {
        let tmp = tempfile::tempdir().unwrap();
        let conf = tmp.path().join("xinetd.conf");
        let sources = Sources {
            xinetd: Some(conf.clone()),
            inetd: None,
            services: tmp.path().join("services"),
        };
        let e = load(&sources).unwrap_err().to_string();
        assert!(
            e.contains("cannot read") && e.contains("No such file"),
            "{e}"
        );
        fs::write(&conf, "service x\n{\n wait = no\n").unwrap();
        let e = load(&sources).unwrap_err().to_string();
        assert!(e.contains("xinetd.conf:1: service x: missing '}'"), "{e}");
        fs::write(&conf, "include self.conf\n").unwrap();
        fs::write(tmp.path().join("self.conf"), "include self.conf\n").unwrap();
        let e = load(&sources).unwrap_err().to_string();
        assert!(e.contains("levels deep"), "{e}");
        fs::write(&conf, "includedir nowhere\n").unwrap();
        let e = load(&sources).unwrap_err().to_string();
        assert!(e.contains("xinetd.conf:1: cannot read directory"), "{e}");
        // A FIFO (or a device) is refused at once instead of waiting for a writer.
        let fifo = tmp.path().join("fifo.conf");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        fs::write(&conf, "include fifo.conf\n").unwrap();
        let e = load(&sources).unwrap_err().to_string();
        assert!(e.contains("fifo.conf: not a regular file"), "{e}");
        fs::write(&conf, "").unwrap();
        let fifo_services = Sources {
            services: fifo.clone(),
            ..sources.clone()
        };
        let e = load(&fifo_services).unwrap_err().to_string();
        assert!(e.contains("fifo.conf: not a regular file"), "{e}");

        // Every file is read up to the size limit and no further (a file grown
        // without bound, or a link to one, would take all memory).
        let big = tmp.path().join("big");
        fs::File::create(&big)
            .unwrap()
            .set_len(crate::sys::fs::CONFIG_LIMIT + 1)
            .unwrap();
        let too_big = format!("big: larger than {} bytes", crate::sys::fs::CONFIG_LIMIT);
        for (conf_text, dir_file) in [("include big\n", None), ("includedir d\n", Some("d/x"))] {
            fs::write(&conf, conf_text).unwrap();
            if let Some(file) = dir_file {
                fs::create_dir_all(tmp.path().join("d")).unwrap();
                std::os::unix::fs::symlink(&big, tmp.path().join(file)).unwrap();
            }
            let e = load(&sources).unwrap_err().to_string();
            assert!(e.contains(&too_big) || e.contains("x: larger than"), "{e}");
        }
        fs::write(&conf, "").unwrap();
        let big_services = Sources {
            services: big.clone(),
            ..sources.clone()
        };
        assert!(load(&big_services)
            .unwrap_err()
            .to_string()
            .contains(&too_big));
        let big_inetd = Sources {
            xinetd: None,
            inetd: Some(big.clone()),
            ..sources.clone()
        };
        assert!(load(&big_inetd).unwrap_err().to_string().contains(&too_big));

        // inetd.conf along with xinetd.conf may be missing; alone, it may not.
        fs::write(&conf, "").unwrap();
        let both = Sources {
            inetd: Some(tmp.path().join("inetd.conf")),
            ..sources.clone()
        };
        assert!(load(&both).unwrap().services.is_empty());
        let alone = Sources {
            xinetd: None,
            ..both
        };
        assert!(load(&alone).unwrap_err().to_string().contains("inetd.conf"));
    }

    #[test]
    fn system_users() {
        let lookup = SystemLookup::new();
        let root = lookup.identity("root", None, true).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(lookup.identity("0", Some("0"), false).is_ok());
        assert!(lookup
            .identity("no-such-user-here", None, true)
            .unwrap_err()
            .to_string()
            .contains("unknown user"));
        assert!(lookup
            .identity("root", Some("no-such-group-here"), true)
            .unwrap_err()
            .to_string()
            .contains("unknown group"));
        assert!(lookup
            .resolve("127.0.0.1")
            .unwrap()
            .contains(&"127.0.0.1".parse().unwrap()));
    }
}
