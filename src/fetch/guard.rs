//! Which addresses galley may connect to: public unicast only, unless the user allows
//! private networks. Checked on every resolved address of every hop, and again inside the
//! HTTP client's resolver so a host cannot resolve differently between check and connect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared,
/// multicast, documentation or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that is the real target.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return is_public_v4(embedded_v4(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return is_public_v4(embedded_v4(seg[1], seg[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // IPv4-compatible (deprecated) ::a.b.c.d.
        || seg[..6] == [0, 0, 0, 0, 0, 0]
        // Unique local fc00::/7.
        || (seg[0] & 0xfe00) == 0xfc00
        // Link-local fe80::/10 and the old site-local fec0::/10.
        || (seg[0] & 0xffc0) == 0xfe80
        || (seg[0] & 0xffc0) == 0xfec0
        // Documentation 2001:db8::/32.
        || (seg[0] == 0x2001 && seg[1] == 0x0db8))
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Why a host may not be contacted.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The host did not resolve (or resolving timed out).
    Unresolved(String),
    /// The host resolves to a non-public address.
    Private(IpAddr),
}

/// Resolves `host:port` (within `timeout`) and checks every address.
pub(super) fn check_host(
    host: &str,
    port: u16,
    allow_private: bool,
    timeout: Duration,
) -> Result<(), Refusal> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let (tx, rx) = mpsc::channel();
    // The system resolver has no timeout of its own; a stuck lookup is abandoned, not joined.
    std::thread::spawn(move || {
        let result = target
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<SocketAddr>>());
        let _ = tx.send(result);
    });
    let addrs = match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => addrs,
        Ok(Ok(_)) => return Err(Refusal::Unresolved("no addresses".into())),
        Ok(Err(e)) => return Err(Refusal::Unresolved(e.to_string())),
        Err(_) => return Err(Refusal::Unresolved("lookup timed out".into())),
    };
    if !allow_private && let Some(bad) = addrs.iter().map(SocketAddr::ip).find(|ip| !is_public(*ip))
    {
        return Err(Refusal::Private(bad));
    }
    Ok(())
}

/// The HTTP client's resolver: the default one, refusing non-public addresses unless allowed.
#[derive(Debug)]
pub(super) struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        if !self.allow_private
            && let Some(bad) = addrs.iter().map(SocketAddr::ip).find(|ip| !is_public(*ip))
        {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{bad} is a private, loopback or link-local address"),
            )));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "224.0.0.1",
        ] {
            let ip: IpAddr = private.parse().expect("test address");
            assert!(!is_public(ip), "{private} should not be public");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().expect("test address");
            assert!(is_public(ip), "{public} should be public");
        }
    }

    #[test]
    fn loopback_host_is_refused_unless_allowed() {
        let t = Duration::from_secs(5);
        assert!(matches!(
            check_host("127.0.0.1", 80, false, t),
            Err(Refusal::Private(_))
        ));
        assert!(matches!(
            check_host("::1", 80, false, t),
            Err(Refusal::Private(_))
        ));
        assert!(check_host("127.0.0.1", 80, true, t).is_ok());
    }
}
