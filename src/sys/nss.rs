//! Name lookups (users, groups, hosts, services) in the static build.
//!
//! A static glibc cannot use the NSS modules that `/etc/nsswitch.conf` may name (systemd,
//! sss, ldap, compat, db): it would load them, and with them a second, shared C library,
//! into the process — which crashes on the first lookup that reaches one (a user missing
//! from /etc/passwd, on a host whose nsswitch.conf says `passwd: files systemd`). The
//! static binary therefore asks only the sources built into it: the files in /etc, and
//! DNS for hosts. A user or group that exists only elsewhere (LDAP, systemd's dynamic
//! users) is then unknown, and every lookup a configuration needs reports that by name.

/// The databases vinit looks things up in, and the built-in sources each is read from.
#[cfg(all(target_env = "gnu", target_feature = "crt-static"))]
const BUILT_IN_SOURCES: &[(&std::ffi::CStr, &std::ffi::CStr)] = &[
    (c"passwd", c"files"),
    (c"group", c"files"),
    (c"initgroups", c"files"),
    (c"shadow", c"files"),
    (c"gshadow", c"files"),
    (c"hosts", c"files dns"),
    (c"networks", c"files"),
    (c"services", c"files"),
    (c"protocols", c"files"),
    (c"rpc", c"files"),
    (c"ethers", c"files"),
    (c"netgroup", c"files"),
];

/// In the static build, makes every lookup use only the built-in sources (see the
/// module). Called first thing in `cli::main`; nothing to do in the dynamic build.
pub fn use_built_in_sources() {
    #[cfg(all(target_env = "gnu", target_feature = "crt-static"))]
    for (database, sources) in BUILT_IN_SOURCES {
        extern "C" {
            // glibc's <nss.h>: replaces nsswitch.conf's line for one database.
            fn __nss_configure_lookup(
                database: *const libc::c_char,
                sources: *const libc::c_char,
            ) -> libc::c_int;
        }
        // SAFETY: two NUL-terminated strings; glibc copies what it keeps.
        unsafe { __nss_configure_lookup(database.as_ptr(), sources.as_ptr()) };
    }
}
