//! Listening sockets and the few socket calls std does not offer (peeking at a
//! datagram's source without blocking, socket options).
//!
//! Every socket is close-on-exec: a server gets exactly the descriptors it is handed.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::plan::superserver::{Family, ListenKey, Protocol, SocketOptions};

/// A service's listening socket.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Listener {
    pub(crate) fn raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Udp(u) => u.as_raw_fd(),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l) => l.as_fd(),
            Listener::Udp(u) => u.as_fd(),
        }
    }
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: a plain setsockopt with a pointer to a local int.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Opens, binds and (for TCP) listens. A socket handed to servers is blocking (they
/// expect it so); the others are non-blocking.
pub(crate) fn open_listener(key: &ListenKey, options: &SocketOptions) -> io::Result<Listener> {
    let domain = if key.addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let mut kind = match key.protocol {
        Protocol::Tcp => libc::SOCK_STREAM,
        Protocol::Udp => libc::SOCK_DGRAM,
    } | libc::SOCK_CLOEXEC;
    if !key.handover {
        kind |= libc::SOCK_NONBLOCK;
    }
    // SAFETY: socket() returns a new descriptor that we own at once.
    let fd = unsafe { OwnedFd::from_raw_fd(check(libc::socket(domain, kind, 0))?) };
    let raw = fd.as_raw_fd();
    // TCP: a restarted superserver binds again while old connections linger in
    // TIME_WAIT. Never UDP: there any other socket setting it too could bind the same
    // address and port, and take a share of the datagrams.
    if key.protocol == Protocol::Tcp {
        set_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    }
    if domain == libc::AF_INET6 {
        let only = i32::from(key.family != Family::Dual);
        set_int(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, only)?;
    }
    apply_options(raw, key.protocol, options)?;
    bind(raw, SocketAddr::new(key.addr, key.port))?;
    Ok(match key.protocol {
        Protocol::Tcp => {
            // SAFETY: listen on our own socket.
            check(unsafe { libc::listen(raw, libc::SOMAXCONN) })?;
            Listener::Tcp(TcpListener::from(fd))
        }
        Protocol::Udp => Listener::Udp(UdpSocket::from(fd)),
    })
}

/// Buffer sizes and TCP options; accepted connections inherit them from the listener.
pub(crate) fn apply_options(
    fd: RawFd,
    protocol: Protocol,
    options: &SocketOptions,
) -> io::Result<()> {
    if let Some(size) = options.sndbuf {
        set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, size as libc::c_int)?;
    }
    if let Some(size) = options.rcvbuf {
        set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size as libc::c_int)?;
    }
    if protocol == Protocol::Tcp {
        set_int(
            fd,
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            i32::from(options.keepalive),
        )?;
        set_int(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            i32::from(options.nodelay),
        )?;
    }
    Ok(())
}

fn bind(fd: RawFd, addr: SocketAddr) -> io::Result<()> {
    let (storage, len) = to_sockaddr(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
    check(unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

fn to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid; we fill in one variant.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn from_sockaddr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())),
                u16::from_be(sin.sin_port),
            ))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

/// A datagram waiting on a socket, as far as it can be told from another: its source,
/// its length and a digest of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub source: SocketAddr,
    len: usize,
    digest: u64,
}

/// The next datagram, without taking it and without blocking (the socket of a wait
/// service is blocking, for its server). None: nothing is waiting.
pub(crate) fn peek_waiting(fd: RawFd) -> io::Result<Option<Waiting>> {
    // SAFETY: all-zero storage is valid; recvfrom fills at most `len` bytes of it.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let mut data = vec![0u8; 64 * 1024];
    // MSG_TRUNC: the datagram's whole length, even past the buffer.
    let n = unsafe {
        libc::recvfrom(
            fd,
            data.as_mut_ptr().cast(),
            data.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    let len = n as usize;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hasher::write(&mut hasher, &data[..len.min(data.len())]);
    Ok(from_sockaddr(&storage).map(|source| Waiting {
        source,
        len,
        digest: std::hash::Hasher::finish(&hasher),
    }))
}

/// Takes the next datagram and throws it away, without blocking.
pub(crate) fn drop_datagram(fd: RawFd) {
    let mut byte = [0u8; 1];
    // SAFETY: recv into a local buffer; truncation discards the rest of the datagram.
    unsafe {
        libc::recv(fd, byte.as_mut_ptr().cast(), byte.len(), libc::MSG_DONTWAIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::superserver::any_addr;

    fn key(protocol: Protocol, family: Family, addr: &str, handover: bool) -> ListenKey {
        ListenKey {
            protocol,
            family,
            addr: addr.parse().unwrap(),
            port: 0,
            handover,
        }
    }

    fn flags(fd: RawFd) -> libc::c_int {
        // SAFETY: F_GETFL reads flags only; a bad fd is an error return.
        unsafe { libc::fcntl(fd, libc::F_GETFL) }
    }

    fn fd_flags(fd: RawFd) -> libc::c_int {
        // SAFETY: as above, F_GETFD.
        unsafe { libc::fcntl(fd, libc::F_GETFD) }
    }

    #[test]
    fn listeners_are_cloexec_and_nonblocking_unless_handed_over() {
        let opts = SocketOptions::default();
        let l = open_listener(&key(Protocol::Tcp, Family::V4, "127.0.0.1", false), &opts).unwrap();
        assert!(matches!(l, Listener::Tcp(_)));
        assert_ne!(fd_flags(l.raw_fd()) & libc::FD_CLOEXEC, 0);
        assert_ne!(flags(l.raw_fd()) & libc::O_NONBLOCK, 0);
        let u = open_listener(&key(Protocol::Udp, Family::V4, "127.0.0.1", true), &opts).unwrap();
        assert!(matches!(u, Listener::Udp(_)));
        assert_eq!(flags(u.raw_fd()) & libc::O_NONBLOCK, 0);
        assert_ne!(fd_flags(u.raw_fd()) & libc::FD_CLOEXEC, 0);
    }

    #[test]
    fn dual_stack_takes_ipv4_clients() {
        let k = key(Protocol::Tcp, Family::Dual, "::", false);
        let Ok(Listener::Tcp(l)) = open_listener(&k, &SocketOptions::default()) else {
            return; // no IPv6 on this machine
        };
        let port = l.local_addr().unwrap().port();
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        l.set_nonblocking(false).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert!(matches!(peer.ip(), IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some()));
        assert_eq!(any_addr(Family::Dual).to_string(), "::");
    }

    #[test]
    fn peek_then_drop_a_datagram() {
        let k = key(Protocol::Udp, Family::V4, "127.0.0.1", true);
        let Listener::Udp(u) = open_listener(&k, &SocketOptions::default()).unwrap() else {
            panic!()
        };
        let fd = u.as_raw_fd();
        assert_eq!(peek_waiting(fd).unwrap(), None);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.send_to(b"hello", u.local_addr().unwrap()).unwrap();
        client.send_to(b"hello", u.local_addr().unwrap()).unwrap();
        client.send_to(b"other", u.local_addr().unwrap()).unwrap();
        let mut first = None;
        for _ in 0..1000 {
            first = peek_waiting(fd).unwrap();
            if first.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let first = first.unwrap();
        assert_eq!(first.source, client.local_addr().unwrap());
        // Peeking left it there; dropping takes it. The same bytes from the same
        // source look the same; other bytes do not.
        assert_eq!(peek_waiting(fd).unwrap(), Some(first));
        drop_datagram(fd);
        assert_eq!(peek_waiting(fd).unwrap(), Some(first));
        drop_datagram(fd);
        let other = peek_waiting(fd).unwrap().unwrap();
        assert_eq!(other.source, first.source);
        assert_ne!(other, first);
        drop_datagram(fd);
        assert_eq!(peek_waiting(fd).unwrap(), None);
    }

    #[test]
    fn nobody_else_can_bind_a_udp_port_alongside() {
        let k = key(Protocol::Udp, Family::V4, "127.0.0.1", false);
        let Listener::Udp(u) = open_listener(&k, &SocketOptions::default()).unwrap() else {
            panic!()
        };
        // SAFETY: socket(2) takes no pointers.
        let thief =
            unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        // SAFETY: a new descriptor (checked), owned by nothing else.
        let thief = unsafe { OwnedFd::from_raw_fd(check(thief).unwrap()) };
        set_int(thief.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1).unwrap();
        let e = bind(thief.as_raw_fd(), u.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
    }

    #[test]
    fn a_port_in_use_is_an_error() {
        let first = open_listener(
            &key(Protocol::Tcp, Family::V4, "127.0.0.1", false),
            &SocketOptions::default(),
        )
        .unwrap();
        let Listener::Tcp(l) = &first else { panic!() };
        let mut k = key(Protocol::Tcp, Family::V4, "127.0.0.1", false);
        k.port = l.local_addr().unwrap().port();
        let e = open_listener(&k, &SocketOptions::default()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
    }
}
