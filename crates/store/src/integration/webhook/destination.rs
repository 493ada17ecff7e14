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
//! * with `*` in the list, any other host is allowed too — but never at a
//!   loopback, private, link-local, shared or unspecified address unless
//!   that address is listed itself.
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

use std::net::{IpAddr, SocketAddr};
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
        let why = if allows_any(allowed_hosts) {
            " (a loopback, private or link-local address must be listed itself)"
        } else {
            ""
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

/// Loopback, private, link-local, shared (carrier-grade NAT), unspecified
/// or broadcast: addresses that lead into the store's own machine or
/// network rather than to someone's public endpoint.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10
                || a == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        }
    }
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
            let seen: Vec<String> = resolved.iter().map(|a| a.ip().to_string()).collect();
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
