//! Host names as they arrive in a `Host` header or an admin's form:
//! lower-cased, port and trailing dot removed, international names converted
//! to punycode (IDNA/UTS #46), then checked as a [`Domain`]. The domain
//! router, domain verification and the customer's domain list all use this
//! one rule, so `Portal.Acme.COM.:443` and `portal.acme.com` are one host.

use crate::customer::Domain;
use crate::InvalidValue;

/// The host part of `raw` in its stored form (punycode for IDN), or an error
/// for something that is not a host name (IP literals included).
pub fn normalize_host(raw: &str) -> Result<Domain, InvalidValue> {
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        return Err(InvalidValue::new("domain", "an IP address is not a domain"));
    }
    let without_port = match trimmed.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => trimmed,
    };
    let host = without_port.trim_end_matches('.');
    let (wildcard, rest) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    let ascii = idna::domain_to_ascii(rest).map_err(|_| {
        InvalidValue::new(
            "domain",
            format!(
                "{:?} is not a valid international domain name",
                truncate(raw)
            ),
        )
    })?;
    if ascii.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(InvalidValue::new("domain", "an IP address is not a domain"));
    }
    let full = if wildcard {
        format!("*.{ascii}")
    } else {
        ascii
    };
    Domain::parse(&full).map_err(|e| InvalidValue::new("domain", e.message))
}

fn truncate(raw: &str) -> String {
    raw.chars().take(80).collect()
}

/// The parents a wildcard could name for `host`: `a.b.acme.com` gives
/// `*.b.acme.com`, `*.acme.com` (never `*.com`: a wildcard needs two labels).
pub fn wildcard_candidates(host: &Domain) -> Vec<String> {
    let h = host.as_str();
    let mut out = Vec::new();
    let mut rest = h;
    while let Some((_, parent)) = rest.split_once('.') {
        if parent.contains('.') {
            out.push(format!("*.{parent}"));
        }
        rest = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_port_and_trailing_dot_are_removed() {
        for raw in [
            "Portal.Acme.COM",
            "portal.acme.com:8443",
            "portal.acme.com.",
            "PORTAL.acme.com.:80",
        ] {
            assert_eq!(
                normalize_host(raw).unwrap().as_str(),
                "portal.acme.com",
                "{raw}"
            );
        }
    }

    #[test]
    fn international_names_become_punycode() {
        assert_eq!(
            normalize_host("Bücher.de").unwrap().as_str(),
            "xn--bcher-kva.de"
        );
        assert_eq!(
            normalize_host("*.bücher.de").unwrap().as_str(),
            "*.xn--bcher-kva.de"
        );
        assert_eq!(
            normalize_host("xn--bcher-kva.de").unwrap().as_str(),
            "xn--bcher-kva.de"
        );
    }

    #[test]
    fn ip_literals_and_garbage_are_not_hosts() {
        for raw in [
            "127.0.0.1",
            "127.0.0.1:5001",
            "[::1]:5001",
            "",
            "a b.com",
            "<script>",
        ] {
            assert!(normalize_host(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn wildcard_parents() {
        let h = normalize_host("a.b.acme.com").unwrap();
        assert_eq!(wildcard_candidates(&h), vec!["*.b.acme.com", "*.acme.com"]);
        assert!(wildcard_candidates(&normalize_host("acme.com").unwrap()).is_empty());
    }
}
