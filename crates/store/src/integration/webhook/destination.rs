//! Where a webhook may be sent: the destination check.
//!
//! **Why destination hosts are allow-listed.** A webhook sender makes HTTP
//! requests to URLs that other people type in. Without a check, an attacker
//! registers `http://169.254.169.254/…` or `http://10.0.0.5:6379/` and the
//! store obligingly reaches into its own private network (server-side
//! request forgery), then shows them the response in the delivery log. A
//! real deployment therefore refuses private, loopback and link-local
//! destinations (after DNS resolution, and again on every connection, since
//! a name can re-resolve). This demo's default allow-list is the opposite —
//! loopback and the compose service name `inventory` — because here the
//! receiver *is* on the private network; `WEBHOOK_ALLOWED_HOSTS` widens or
//! narrows it. Redirects are never followed (the store's HTTP clients are
//! built without), for the same reason: a public URL that answers
//! `302 Location: http://127.0.0.1/` would otherwise walk the request past
//! the check.

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
    let allowed = allowed_hosts
        .iter()
        .any(|h| h == "*" || h.eq_ignore_ascii_case(&host));
    if !allowed {
        return Err(format!(
            "{host} is not an allowed webhook destination (allowed: {}); see WEBHOOK_ALLOWED_HOSTS",
            allowed_hosts.join(", ")
        ));
    }
    Ok(url)
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
}
