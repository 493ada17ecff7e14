//! Which endpoint's answers decide an order — the **resolver** — and why
//! no caller can choose it.
//!
//! **Where an endpoint points decides what its answers may do.** An
//! endpoint has an [`EndpointRole`]. Exactly one URL is the `resolver`:
//! the inventory's own receiver, `{INVENTORY_URL}/webhooks/store` — the
//! inventory this store is configured to call ([`ResolverUrl`]). Its `2xx`
//! body says what the inventory did with the order, and that resolves the
//! order (`super::recorder`). Every other endpoint is an `observer`: it
//! gets the same signed deliveries, retried and logged, and whatever it
//! answers changes no order. Otherwise anyone who can register a URL could
//! answer `{"outcome":"applied"}` and confirm orders the inventory never
//! saw.
//!
//! *Who* registers has no say in it. The road not taken — and the rule
//! of an earlier version — was "whoever presents the store's API key registers a
//! resolver": but the key is a shared secret with a public demo default,
//! so anyone on the host could register a second resolver, at any allowed
//! URL, that confirmed orders the inventory had backordered. The store's
//! configuration, by contrast, is not something a caller can change. And
//! because the role is worked out from the URL whenever an endpoint is
//! read, not trusted from the row, an endpoint stored as a resolver under
//! the old rule at another URL stopped resolving the moment the store
//! started with this code — as would the old inventory URL's endpoint
//! after `INVENTORY_URL` changes. (The `role` column is still written, for
//! a person reading the table; the code never reads it.) One live endpoint
//! per URL (a unique index) makes "one resolver" hold.
//!

use crate::vocabulary::EndpointRole;

/// The one URL whose endpoint resolves webhook orders: the receiver of the
/// inventory this store calls, `{INVENTORY_URL}` followed by
/// [`contract::inventory::WEBHOOK_RECEIVER_PATH`].
///
/// URLs are compared as the `url` crate reads them, not as text: scheme
/// and host in any case, a default port written or not, `.` segments, a
/// trailing slash on `INVENTORY_URL` — all the same URL. Anything else is
/// another URL: another path (a trailing `/` included), a query, another
/// port, or another name for the same host (`localhost` is not
/// `127.0.0.1`: the store cannot know that two names reach one process,
/// so it takes the one it was given).
#[derive(Debug, Clone)]
pub struct ResolverUrl(Option<url::Url>);

impl ResolverUrl {
    /// The receiver of the inventory at `inventory_url`. A URL that does
    /// not parse leaves no endpoint resolving (and says so at start-up).
    pub fn of_inventory(inventory_url: &str) -> ResolverUrl {
        let text = format!(
            "{}{}",
            inventory_url.trim().trim_end_matches('/'),
            contract::inventory::WEBHOOK_RECEIVER_PATH
        );
        ResolverUrl(url::Url::parse(&text).ok())
    }

    /// The URL, as endpoints are stored (normalised).
    pub fn url(&self) -> Option<&str> {
        self.0.as_ref().map(url::Url::as_str)
    }

    /// The role of an endpoint at `url`.
    pub fn role_of(&self, url: &str) -> EndpointRole {
        match (&self.0, url::Url::parse(url)) {
            (Some(resolver), Ok(url)) if *resolver == url => EndpointRole::Resolver,
            _ => EndpointRole::Observer,
        }
    }
}

/// Keeps the `role` column in step with [`ResolverUrl`] (on start): for a
/// person reading the table — the code works the role out from the URL.
pub async fn record_roles(db: &platform::Db, resolver: &ResolverUrl) -> Result<(), sqlx::Error> {
    match resolver.url() {
        None => tracing::warn!("INVENTORY_URL is not a URL: no webhook endpoint resolves orders"),
        Some(url) => tracing::debug!(url, "the inventory's receiver resolves webhook orders"),
    }
    sqlx::query(
        "UPDATE webhook_endpoints SET role = CASE WHEN url = $1 THEN $2 ELSE $3 END \
         WHERE role <> CASE WHEN url = $1 THEN $2 ELSE $3 END",
    )
    .bind(resolver.url().unwrap_or_default())
    .bind(EndpointRole::Resolver.as_str())
    .bind(EndpointRole::Observer.as_str())
    .execute(db.writer())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inventory_s_receiver_resolves_compared_as_a_url() {
        for inventory in [
            "http://inventory:8081",
            "http://inventory:8081/",
            " HTTP://Inventory:8081 ",
        ] {
            let resolver = ResolverUrl::of_inventory(inventory);
            assert_eq!(resolver.url(), Some("http://inventory:8081/webhooks/store"));
            for same in [
                "http://inventory:8081/webhooks/store",
                "HTTP://INVENTORY:8081/webhooks/store",
                "http://inventory:8081/webhooks/./store",
                "http://inventory:8081/webhooks/x/../store",
            ] {
                assert_eq!(
                    resolver.role_of(same),
                    EndpointRole::Resolver,
                    "{inventory} / {same}"
                );
            }
        }
        let default_port = ResolverUrl::of_inventory("http://inventory");
        assert_eq!(
            default_port.role_of("http://inventory:80/webhooks/store"),
            EndpointRole::Resolver
        );
    }

    #[test]
    fn any_other_url_observes() {
        let resolver = ResolverUrl::of_inventory("http://127.0.0.1:8081");
        for other in [
            "http://127.0.0.1:8081/webhooks/store/",
            "http://127.0.0.1:8081/webhooks/store?x=1",
            "http://127.0.0.1:8081/webhooks/store#x",
            "http://127.0.0.1:8081/webhooks/Store",
            "http://127.0.0.1:8081/webhooks/store/extra",
            "http://127.0.0.1:8082/webhooks/store",
            "http://localhost:8081/webhooks/store",
            "http://user@127.0.0.1:8081/webhooks/store",
            "https://127.0.0.1:8081/webhooks/store",
            "http://127.0.0.1:8081/",
            "not a url",
            "",
        ] {
            assert_eq!(resolver.role_of(other), EndpointRole::Observer, "{other}");
        }
        // An INVENTORY_URL that is not one leaves nobody resolving.
        let nobody = ResolverUrl::of_inventory("::not a url::");
        assert_eq!(nobody.url(), None);
        assert_eq!(
            nobody.role_of("http://127.0.0.1:8081/webhooks/store"),
            EndpointRole::Observer
        );
    }
}
