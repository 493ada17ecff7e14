//! Where a webhook may be sent: the destination check.
//!
//! **Why destination hosts are allow-listed.** A webhook sender makes HTTP
//! requests to URLs that other people type in. Without a check, an attacker
//! registers `http://169.254.169.254/…` or `http://10.0.0.5:6379/` and the
//! store obligingly reaches into its own private network (server-side
//! request forgery), then shows them the response in the delivery log. A
//! real deployment therefore refuses private, loopback and link-local
//! destinations. This demo's default allow-list is the opposite — loopback
//! and the compose service name `inventory` — because here the receiver
//! *is* on the private network; `WEBHOOK_ALLOWED_HOSTS` widens or narrows
//! it. The policy, in [`validate_url`] and [`address_allowed`]:
//!
//! * a host named in the list is allowed, whatever it resolves to (the
//!   operator vouched for it), and so is an address named in the list;
//! * with `*` in the list, any other host is allowed too — but never at an
//!   *internal* address ([`internal`]) unless that address is listed
//!   itself.
//!
//! **What is internal** is one table per IP version, read top to bottom
//! ([`V4_RANGES`], [`V6_RANGES`], from IANA's special-purpose address
//! registries): loopback, private, link-local, shared (carrier-grade NAT),
//! unspecified, broadcast, multicast, reserved, benchmarking and
//! documentation ranges, unique-local and site-local IPv6. Some IPv6
//! ranges *wrap* an IPv4 address — IPv4-mapped `::ffff:0:0/96`, NAT64
//! `64:ff9b::/96`, 6to4 `2002::/16` — and reach that IPv4 host through the
//! operating system or a translator on the way; such an address is judged
//! by the IPv4 address inside it, so `[64:ff9b::10.0.0.1]` is as private
//! as `10.0.0.1`. The tunnels nothing public should need for a webhook
//! (Teredo, local-use NAT64, the deprecated IPv4-compatible form) are
//! internal whole. Each row names its range, so a refusal says which.
//!
//! **Checked twice.** At registration the URL is parsed and normalised —
//! the `url` crate reads `0x7f.1`, `2130706433` and `127.1` as the
//! `127.0.0.1` they are, so a numeric disguise is judged (and stored) as
//! its address. And at send time, because a name can resolve to a public
//! address when it is registered and to `127.0.0.1` a minute later (DNS
//! rebinding): the webhook client resolves names through [`Destinations`],
//! which applies the same policy to every address and connects only to
//! those that passed; an IP literal, which never reaches a resolver, is
//! checked again by the attempt itself. Redirects are never followed (the
//! store's HTTP clients are built without), for the same reason: a public
//! URL that answers `302 Location: http://127.0.0.1/` would otherwise walk
//! the request past the check; nor is a proxy from the environment used.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Checks a destination URL: http only in this build, a host on the
/// allow-list, no credentials embedded.
pub fn validate_url(text: &str, allowed_hosts: &[String]) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(
                "https endpoints are not supported by this build (it carries no TLS stack); \
                 the demo's services talk plain HTTP on loopback or a private network"
                    .into(),
            );
        }
        other => return Err(format!("the URL scheme must be http (got {other})")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials do not belong in an endpoint URL; the signature authenticates the sender"
                .into(),
        );
    }
    let host = url
        .host_str()
        .ok_or("the URL needs a host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let allowed = match url.host() {
        // An address (however it was written: the `url` crate normalised
        // it): listed, or public under `*`.
        Some(url::Host::Ipv4(ip)) => address_allowed(IpAddr::V4(ip), allowed_hosts),
        Some(url::Host::Ipv6(ip)) => address_allowed(IpAddr::V6(ip), allowed_hosts),
        // A name: listed, or any under `*` — its addresses are checked
        // when it is resolved, at every connection (`Destinations`).
        _ => is_listed_name(&host, allowed_hosts) || allows_any(allowed_hosts),
    };
    if !allowed {
        let inside = match url.host() {
            Some(url::Host::Ipv4(ip)) => internal(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => internal(IpAddr::V6(ip)),
            _ => None,
        };
        let why = match inside {
            Some(inside) if allows_any(allowed_hosts) => {
                format!(" (it is {inside}: an internal address must be listed itself)")
            }
            _ => String::new(),
        };
        return Err(format!(
            "{host} is not an allowed webhook destination{why} (allowed: {}); see WEBHOOK_ALLOWED_HOSTS",
            allowed_hosts.join(", ")
        ));
    }
    Ok(url)
}

fn allows_any(allowed_hosts: &[String]) -> bool {
    allowed_hosts.iter().any(|h| h.trim() == "*")
}

/// Whether `host` (a name) is listed by name.
fn is_listed_name(host: &str, allowed_hosts: &[String]) -> bool {
    let host = host.trim_end_matches('.');
    allowed_hosts
        .iter()
        .any(|h| h.trim().trim_end_matches('.').eq_ignore_ascii_case(host))
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the store may connect to `ip`: listed itself, or — with `*` in
/// the list — an address of the public internet.
pub fn address_allowed(ip: IpAddr, allowed_hosts: &[String]) -> bool {
    let ip = canonical(ip);
    let listed = allowed_hosts.iter().any(|h| {
        h.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|listed| canonical(listed) == ip)
    });
    listed || (allows_any(allowed_hosts) && !is_internal(ip))
}

/// How a special-purpose range leads inside.
#[derive(Clone, Copy)]
pub enum Reach {
    /// The whole range does.
    Inside,
    /// It wraps an IPv4 address, and leads wherever that one does.
    Wraps(fn(Ipv6Addr) -> Ipv4Addr),
}

/// IPv4 ranges that lead into the store's own machine or network, or
/// nowhere public (IANA IPv4 Special-Purpose Address Registry). The first
/// row that holds an address names it.
#[rustfmt::skip]
pub const V4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0),          8, "\"this network\""),
    (Ipv4Addr::new(10, 0, 0, 0),         8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0),      10, "shared (carrier-grade NAT)"),
    (Ipv4Addr::new(127, 0, 0, 0),        8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0),     16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0),      12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0),       24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0),       24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0),     24, "6to4 relay anycast (deprecated)"),
    (Ipv4Addr::new(192, 168, 0, 0),     16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0),      15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0),    24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0),     24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0),        4, "multicast"),
    // Before 240.0.0.0/4, which holds it: the first row that fits names it.
    (Ipv4Addr::new(255, 255, 255, 255), 32, "broadcast"),
    (Ipv4Addr::new(240, 0, 0, 0),        4, "reserved"),
];

/// The IPv4 address in the last 32 bits (IPv4-mapped, NAT64's /96).
fn last_32_bits(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

/// The IPv4 address right after 6to4's `2002:` (bits 16 to 47).
fn after_2002(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) >> 80) as u32)
}

/// IPv6 ranges likewise (IANA IPv6 Special-Purpose Address Registry, and
/// the deprecated site-local and IPv4-compatible forms). Written as a
/// table, one range a line.
#[rustfmt::skip]
pub const V6_RANGES: &[(Ipv6Addr, u8, &str, Reach)] = {
    use Reach::{Inside, Wraps};
    const fn net(a: u16, b: u16, c: u16) -> Ipv6Addr {
        Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0)
    }
    &[
        (Ipv6Addr::UNSPECIFIED,                      128, "unspecified",                  Inside),
        (Ipv6Addr::LOCALHOST,                        128, "loopback",                     Inside),
        (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),  96, "IPv4-mapped",                  Wraps(last_32_bits)),
        (Ipv6Addr::UNSPECIFIED,                       96, "IPv4-compatible (deprecated)", Inside),
        (net(0x64, 0xff9b, 0),                        96, "NAT64",                        Wraps(last_32_bits)),
        (net(0x64, 0xff9b, 1),                        48, "local-use NAT64",              Inside),
        (net(0x100, 0, 0),                            64, "discard-only",                 Inside),
        (net(0x2001, 0, 0),                           32, "Teredo",                       Inside),
        (net(0x2001, 2, 0),                           48, "benchmarking",                 Inside),
        (net(0x2001, 0xdb8, 0),                       32, "documentation",                Inside),
        (net(0x2002, 0, 0),                           16, "6to4",                         Wraps(after_2002)),
        (net(0x3fff, 0, 0),                           20, "documentation",                Inside),
        (net(0x5f00, 0, 0),                           16, "segment routing (SRv6)",       Inside),
        (net(0xfc00, 0, 0),                            7, "unique local",                 Inside),
        (net(0xfe80, 0, 0),                           10, "link-local",                   Inside),
        (net(0xfec0, 0, 0),                           10, "site-local (deprecated)",      Inside),
        (net(0xff00, 0, 0),                            8, "multicast",                    Inside),
    ]
};

/// Why an address leads inside: its range, and for an IPv6 address that
/// wraps an IPv4 one, that address and its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Internal {
    pub range: String,
    pub wrapped: Option<(Ipv4Addr, String)>,
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.wrapped {
            None => write!(f, "{}", self.range),
            Some((v4, range)) => write!(f, "{} around {v4}, {range}", self.range),
        }
    }
}

/// Whether the first `len` bits of two numbers agree.
fn same_prefix<T>(a: T, b: T, len: u8) -> bool
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    let bits = (std::mem::size_of::<T>() * 8) as u32;
    let shift = bits - u32::from(len);
    if shift == bits {
        true
    } else {
        a >> shift == b >> shift
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<String> {
    V4_RANGES
        .iter()
        .find(|(net, len, _)| same_prefix(u32::from(ip), u32::from(*net), *len))
        .map(|(net, len, name)| format!("{name} ({net}/{len})"))
}

/// Why `ip` leads into the store's own machine or network rather than to
/// someone's public endpoint — `None` for a public address.
pub fn internal(ip: IpAddr) -> Option<Internal> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4).map(|range| Internal {
            range,
            wrapped: None,
        }),
        IpAddr::V6(v6) => {
            let (net, len, name, reach) = V6_RANGES
                .iter()
                .find(|(net, len, ..)| same_prefix(u128::from(v6), u128::from(*net), *len))?;
            let range = format!("{name} ({net}/{len})");
            match reach {
                Reach::Inside => Some(Internal {
                    range,
                    wrapped: None,
                }),
                Reach::Wraps(unwrap) => {
                    let v4 = unwrap(v6);
                    internal_v4(v4).map(|inner| Internal {
                        range,
                        wrapped: Some((v4, inner)),
                    })
                }
            }
        }
    }
}

/// Whether `ip` is [`internal`].
pub fn is_internal(ip: IpAddr) -> bool {
    internal(ip).is_some()
}

/// The webhook client's resolver: looks a name up, keeps the addresses the
/// policy allows (all of them for a name listed by name), and refuses the
/// connection when none is left. Installed with
/// `reqwest::ClientBuilder::dns_resolver`, so the addresses checked are
/// the addresses connected to — there is no second lookup to rebind.
#[derive(Debug, Clone)]
pub struct Destinations {
    allowed_hosts: Arc<Vec<String>>,
}

impl Destinations {
    pub fn new(allowed_hosts: &[String]) -> Destinations {
        Destinations {
            allowed_hosts: Arc::new(allowed_hosts.to_vec()),
        }
    }

    /// Of the addresses `host` resolved to, those the store may connect to.
    pub fn admit(&self, host: &str, resolved: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        if is_listed_name(host, &self.allowed_hosts) {
            return Ok(resolved);
        }
        let kept: Vec<SocketAddr> = resolved
            .iter()
            .copied()
            .filter(|a| address_allowed(a.ip(), &self.allowed_hosts))
            .collect();
        if kept.is_empty() {
            let seen: Vec<String> = resolved
                .iter()
                .map(|a| match internal(a.ip()) {
                    Some(inside) => format!("{} ({inside})", a.ip()),
                    None => a.ip().to_string(),
                })
                .collect();
            return Err(format!(
                "{host} resolves to {} — not an allowed webhook destination (see WEBHOOK_ALLOWED_HOSTS)",
                if seen.is_empty() {
                    "nothing".to_owned()
                } else {
                    seen.join(", ")
                }
            ));
        }
        Ok(kept)
    }
}

impl Resolve for Destinations {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await
            {
                Ok(addrs) => addrs.collect(),
                Err(e) => return Err(e.into()),
            };
            match this.admit(&host, resolved) {
                Ok(kept) => Ok(Box::new(kept.into_iter()) as Addrs),
                Err(refused) => {
                    tracing::warn!(%host, %refused, "webhook destination refused at send time");
                    Err(refused.into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
            "inventory".into(),
        ]
    }

    #[test]
    fn allowed_urls_pass() {
        for u in [
            "http://127.0.0.1:8081/webhooks/store",
            "http://localhost/hook",
            "http://[::1]:9000/x",
            "http://inventory:8081/webhooks/store",
        ] {
            assert!(validate_url(u, &hosts()).is_ok(), "{u}");
        }
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
        for (u, why) in [
            ("ftp://127.0.0.1/x", "scheme"),
            ("https://127.0.0.1/x", "https"),
            ("http://169.254.169.254/latest/meta-data", "not an allowed"),
            ("http://10.0.0.5:6379/", "not an allowed"),
            ("http://user:pw@127.0.0.1/x", "credentials"),
            ("not a url", "not a valid URL"),
        ] {
            let err = validate_url(u, &hosts()).unwrap_err();
            assert!(err.contains(why), "{u}: {err}");
        }
        assert!(validate_url("http://example.com/x", &["*".into()]).is_ok());
    }

    #[test]
    fn numeric_hosts_are_judged_and_stored_as_their_address() {
        for disguise in [
            "http://0x7f.1:8081/hook",
            "http://2130706433:8081/hook",
            "http://127.1:8081/hook",
            "http://0177.0.0.1:8081/hook",
        ] {
            let url = validate_url(disguise, &hosts()).unwrap();
            assert_eq!(url.as_str(), "http://127.0.0.1:8081/hook", "{disguise}");
            // Under `*`, loopback is not public, however it is written.
            let err = validate_url(disguise, &["*".into()]).unwrap_err();
            assert!(err.contains("127.0.0.1"), "{disguise}: {err}");
        }
        assert_eq!(
            validate_url("http://[::ffff:7f00:1]/x", &hosts())
                .unwrap()
                .host_str(),
            Some("[::ffff:7f00:1]")
        );
        assert!(validate_url("http://[::ffff:7f00:1]/x", &["*".into()]).is_err());
    }

    #[test]
    fn any_host_means_any_public_one() {
        let any = vec!["*".to_owned()];
        for refused in [
            "http://127.0.0.1/x",
            "http://10.0.0.5:6379/",
            "http://172.16.1.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
        ] {
            assert!(validate_url(refused, &any).is_err(), "{refused}");
        }
        assert!(validate_url("http://93.184.215.14/x", &any).is_ok());
        assert!(validate_url("http://[2606:4700::1]/x", &any).is_ok());
        // Listing an address lets it through, `*` or not.
        let some = vec!["*".to_owned(), "10.0.0.5".to_owned()];
        assert!(validate_url("http://10.0.0.5:6379/", &some).is_ok());
        assert!(validate_url("http://10.0.0.6:6379/", &some).is_err());
    }

    /// Every range of the tables, by an address in it, and what the
    /// refusal calls it (`None`: public).
    const CLASSIFIED: &[(&str, Option<&str>)] = &[
        ("0.1.2.3", Some("\"this network\" (0.0.0.0/8)")),
        ("10.20.30.40", Some("private (10.0.0.0/8)")),
        (
            "100.64.0.1",
            Some("shared (carrier-grade NAT) (100.64.0.0/10)"),
        ),
        ("100.127.255.254", Some("shared")),
        ("127.0.0.2", Some("loopback (127.0.0.0/8)")),
        ("169.254.169.254", Some("link-local (169.254.0.0/16)")),
        ("172.31.255.255", Some("private (172.16.0.0/12)")),
        (
            "192.0.0.170",
            Some("IETF protocol assignments (192.0.0.0/24)"),
        ),
        ("192.0.2.1", Some("documentation (192.0.2.0/24)")),
        ("192.88.99.1", Some("6to4 relay anycast")),
        ("192.168.1.1", Some("private (192.168.0.0/16)")),
        ("198.19.255.1", Some("benchmarking (198.18.0.0/15)")),
        ("198.51.100.7", Some("documentation (198.51.100.0/24)")),
        ("203.0.113.9", Some("documentation (203.0.113.0/24)")),
        ("224.0.0.1", Some("multicast (224.0.0.0/4)")),
        ("239.255.255.250", Some("multicast")),
        ("240.0.0.1", Some("reserved (240.0.0.0/4)")),
        ("255.255.255.255", Some("broadcast (255.255.255.255/32)")),
        ("::", Some("unspecified (::/128)")),
        ("::1", Some("loopback (::1/128)")),
        (
            "::ffff:10.0.0.1",
            Some("IPv4-mapped (::ffff:0.0.0.0/96) around 10.0.0.1, private"),
        ),
        ("::10.0.0.1", Some("IPv4-compatible (deprecated) (::/96)")),
        ("::8.8.8.8", Some("IPv4-compatible")),
        (
            "64:ff9b::10.0.0.1",
            Some("NAT64 (64:ff9b::/96) around 10.0.0.1, private (10.0.0.0/8)"),
        ),
        (
            "64:ff9b::7f00:1",
            Some("NAT64 (64:ff9b::/96) around 127.0.0.1, loopback"),
        ),
        (
            "64:ff9b::a9fe:a9fe",
            Some("around 169.254.169.254, link-local"),
        ),
        (
            "64:ff9b:1::5db8:d70e",
            Some("local-use NAT64 (64:ff9b:1::/48)"),
        ),
        ("100::1", Some("discard-only (100::/64)")),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            Some("Teredo (2001::/32)"),
        ),
        ("2001:2::1", Some("benchmarking (2001:2::/48)")),
        ("2001:db8::1", Some("documentation (2001:db8::/32)")),
        (
            "2002:a00:1::1",
            Some("6to4 (2002::/16) around 10.0.0.1, private"),
        ),
        (
            "2002:c0a8:101::",
            Some("6to4 (2002::/16) around 192.168.1.1, private"),
        ),
        ("2002:7f00:1::", Some("around 127.0.0.1, loopback")),
        ("3fff::1", Some("documentation (3fff::/20)")),
        ("5f00::1", Some("segment routing")),
        ("fd12:3456::1", Some("unique local (fc00::/7)")),
        ("fe80::1", Some("link-local (fe80::/10)")),
        ("fec0::1", Some("site-local (deprecated) (fec0::/10)")),
        ("ff02::1", Some("multicast (ff00::/8)")),
        // Public, however written.
        ("93.184.215.14", None),
        ("1.1.1.1", None),
        ("100.128.0.1", None),
        ("172.32.0.1", None),
        ("223.255.255.255", None),
        ("2606:4700::1", None),
        ("::ffff:93.184.215.14", None),
        ("64:ff9b::5db8:d70e", None),
        ("2002:5db8:d70e::1", None),
        ("2001:4860:4860::8888", None),
    ];

    #[test]
    fn each_special_range_is_internal_and_named() {
        for (address, expected) in CLASSIFIED {
            let ip: IpAddr = address.parse().unwrap();
            let found = internal(ip).map(|i| i.to_string());
            match (expected, &found) {
                (None, None) => {}
                (Some(part), Some(said)) => assert!(said.contains(part), "{address}: {said}"),
                _ => panic!("{address}: expected {expected:?}, got {found:?}"),
            }
            assert_eq!(is_internal(ip), expected.is_some(), "{address}");
        }
    }

    // With `*`, addresses that wrap or reach internal ones
    // were let through; each is refused, at registration and at sending.
    #[test]
    fn under_any_host_an_address_that_wraps_or_reaches_inside_is_refused() {
        let any = vec!["*".to_owned()];
        let at = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 80);
        let resolver = Destinations::new(&any);
        for (address, expected) in CLASSIFIED {
            let host = if address.contains(':') {
                format!("[{address}]")
            } else {
                address.to_string()
            };
            let registered = validate_url(&format!("http://{host}:8080/hook"), &any);
            let sent = resolver.admit("rebind.example", vec![at(address)]);
            match expected {
                Some(part) => {
                    let err = registered.unwrap_err();
                    assert!(
                        err.contains("not an allowed webhook destination"),
                        "{address}: {err}"
                    );
                    assert!(err.contains(part), "{address}: {err}");
                    let err = sent.unwrap_err();
                    assert!(err.contains(part), "{address}: {err}");
                }
                None => {
                    assert!(registered.is_ok(), "{address}: {registered:?}");
                    assert_eq!(sent.unwrap(), vec![at(address)], "{address}");
                }
            }
        }
        // Listed by itself, an internal address is the operator's choice.
        let listed = vec!["*".to_owned(), "64:ff9b::a00:1".to_owned()];
        assert!(validate_url("http://[64:ff9b::10.0.0.1]/hook", &listed).is_ok());
    }

    #[test]
    fn the_tables_are_written_as_their_networks() {
        // A row's address is its network (no host bits set), so what the
        // refusal prints is the range as the registries write it.
        for (net, len, name) in V4_RANGES {
            let host_bits =
                u32::from(*net) & !(u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0));
            assert_eq!(host_bits, 0, "{name} {net}/{len}");
        }
        for (net, len, name, _) in V6_RANGES {
            let host_bits =
                u128::from(*net) & !(u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0));
            assert_eq!(host_bits, 0, "{name} {net}/{len}");
        }
    }

    mod wrapped {
        use proptest::prelude::*;

        use super::*;

        /// Any address of an internal IPv4 range.
        fn internal_v4() -> impl Strategy<Value = Ipv4Addr> {
            (prop::sample::select(V4_RANGES), any::<u32>()).prop_map(|((net, len, _), bits)| {
                let host = bits.checked_shr(u32::from(len)).unwrap_or(0);
                Ipv4Addr::from(u32::from(net) | host)
            })
        }

        /// The IPv6 forms that carry an IPv4 address to it.
        fn wrappings(v4: Ipv4Addr, noise: u128) -> [Ipv6Addr; 3] {
            let v4 = u128::from(u32::from(v4));
            [
                Ipv6Addr::from(0xffff_u128 << 32 | v4),
                Ipv6Addr::from(0x0064_ff9b_u128 << 96 | v4),
                // 6to4: the rest (subnet and interface) is anyone's choice.
                Ipv6Addr::from(0x2002_u128 << 112 | v4 << 80 | (noise & ((1 << 80) - 1))),
            ]
        }

        proptest! {
            /// Any internal IPv4 address, wrapped in IPv4-mapped, NAT64 or
            /// 6to4 form, is internal — and said to be, with the address.
            #[test]
            fn any_internal_ipv4_is_internal_however_it_is_wrapped(v4 in internal_v4(), noise in any::<u128>()) {
                prop_assert!(is_internal(IpAddr::V4(v4)));
                for v6 in wrappings(v4, noise) {
                    let inside = internal(IpAddr::V6(v6));
                    prop_assert!(inside.is_some(), "{}", v6);
                    prop_assert_eq!(inside.unwrap().wrapped.map(|(w, _)| w), Some(v4));
                    prop_assert!(!address_allowed(IpAddr::V6(v6), &["*".to_owned()]), "{}", v6);
                }
            }

            /// Any public IPv4 address is public in those forms too.
            #[test]
            fn any_public_ipv4_stays_public_wrapped(bits in any::<u32>(), noise in any::<u128>()) {
                let v4 = Ipv4Addr::from(bits);
                prop_assume!(!is_internal(IpAddr::V4(v4)));
                for v6 in wrappings(v4, noise) {
                    prop_assert!(internal(IpAddr::V6(v6)).is_none(), "{}", v6);
                }
            }

            /// Any address at all: a verdict, never a panic.
            #[test]
            fn any_address_is_judged(v6 in any::<u128>(), v4 in any::<u32>()) {
                let _ = internal(IpAddr::V6(Ipv6Addr::from(v6)));
                let _ = internal(IpAddr::V4(Ipv4Addr::from(v4)));
            }
        }
    }

    #[test]
    fn resolved_addresses_are_checked_at_send_time() {
        let at = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 0);
        // `*`: a name that rebinds to loopback or the metadata service is
        // refused; its public addresses are kept.
        let any = Destinations::new(&["*".to_owned()]);
        assert!(any.admit("rebind.example", vec![at("127.0.0.1")]).is_err());
        assert!(
            any.admit("rebind.example", vec![at("169.254.169.254")])
                .is_err()
        );
        assert_eq!(
            any.admit("mixed.example", vec![at("10.1.2.3"), at("93.184.215.14")])
                .unwrap(),
            vec![at("93.184.215.14")]
        );
        assert!(any.admit("nothing.example", vec![]).is_err());
        // A name listed by name is trusted whatever it resolves to (the
        // compose network's `inventory` is a private address).
        let demo = Destinations::new(&hosts());
        assert_eq!(
            demo.admit("inventory", vec![at("172.18.0.3")])
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            demo.admit("LOCALHOST", vec![at("127.0.0.1")])
                .unwrap()
                .len(),
            1
        );
        // Not listed, no `*`: nothing.
        assert!(
            demo.admit("elsewhere.example", vec![at("93.184.215.14")])
                .is_err()
        );
        // An address listed by itself is allowed for any name.
        assert_eq!(
            demo.admit("alias.example", vec![at("127.0.0.1")])
                .unwrap()
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_leads_inside() {
        // `localhost` resolves to loopback: under `*` alone, no connection.
        let resolver = Destinations::new(&["*".to_owned()]);
        let name: Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
        let listed = Destinations::new(&["localhost".to_owned()]);
        let addrs: Vec<SocketAddr> = listed
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
