//! Which webhook destinations are refused unless an admin allowed private
//! addresses for the endpoint: anything that is not a public unicast
//! address (loopback, private ranges, link-local, unspecified, shared
//! carrier-grade NAT, multicast, broadcast, documentation and benchmark
//! ranges, IPv6 unique-local and the IPv4 addresses hidden inside IPv6).
//! The server resolves a webhook's host and checks every address, and
//! connects only to the addresses it checked (no second lookup to rebind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a webhook may not be sent to `ip` without `allowPrivate`.
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_refused(v4),
        IpAddr::V6(v6) => v6_refused(v6),
    }
}

fn v4_refused(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // 198.18.0.0/15 benchmarking; 240.0.0.0/4 reserved.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn v6_refused(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_refused(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // 64:ff9b::/96 NAT64 embeds an IPv4 address: judge that one.
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && v4_refused(Ipv4Addr::from((ip.to_bits() & 0xffff_ffff) as u32)))
        // 2001:db8::/32 documentation; fec0::/10 deprecated site-local.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first & 0xffc0) == 0xfec0
        // ::/96 IPv4-compatible (deprecated) addresses.
        || ip.segments()[..6] == [0; 6]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        is_refused(s.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(a), "{a} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(a), "{a} is public");
        }
    }
}
