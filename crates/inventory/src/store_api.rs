//! **The store, as the inventory calls it.** Two patterns make requests of
//! the store — the poller (its feed, its acknowledgements) and the
//! subscription (registering the receiver, rotating its secret) — and they
//! make them the same way: to the store's address, with the store's API
//! key, recorded exactly as they crossed (`platform::outbound`), so the
//! message log can show them. That sameness is written once, here.
//!
//! What came back is read into [`CallFailed`] when it is not what was
//! asked for: no answer at all, an answer that is not a success, or one
//! that cannot be read — a type, so each caller decides on the kind and
//! the log's words stay the ones a person reads.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use contract::Timestamp;
use platform::outbound::{Recorded, send_recorded};

use crate::config::InventoryConfig;

/// The store's API: its address, the key we present, one HTTP client.
/// Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct StoreApi {
    client: reqwest::Client,
    /// Without a trailing slash.
    url: String,
    key: SecretString,
}

impl StoreApi {
    /// Short timeouts, and no redirects followed: the store answers, or
    /// the call failed.
    pub fn new(config: &InventoryConfig) -> reqwest::Result<StoreApi> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(StoreApi {
            client,
            url: config.store_url.trim_end_matches('/').to_owned(),
            key: config.store_api_key.clone(),
        })
    }

    /// `GET {store}{path}`, with our key.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.key.expose_secret())
    }

    /// `POST {store}{path}`, with our key.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(self.key.expose_secret())
    }

    /// Sends a request and records what crossed; `now` is when it left.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        now: Timestamp,
    ) -> reqwest::Result<Recorded> {
        Ok(send_recorded(&self.client, request.build()?, now.millis()).await)
    }
}

/// Why a call to the store did not bring back what was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailed {
    /// No answer came back (the transport's words for why).
    #[error("{0}")]
    NoAnswer(String),
    /// The store answered, with something else than a success.
    #[error("the store answered {0}")]
    Refused(u16),
    /// A success, but not readable as `what` was expected to be.
    #[error("unreadable {what}: {error}")]
    Unreadable { what: &'static str, error: String },
}

/// Whether the store answered with a success.
pub fn succeeded(rec: &Recorded) -> Result<(), CallFailed> {
    match rec.status() {
        Some(status) if (200..300).contains(&status) => Ok(()),
        Some(status) => Err(CallFailed::Refused(status)),
        None => Err(CallFailed::NoAnswer(
            rec.error().unwrap_or("no answer").to_owned(),
        )),
    }
}

/// The answer's body as a `T` (JSON), if the store answered with success;
/// `what` names it in the error ("feed page").
pub fn read<T: DeserializeOwned>(rec: &Recorded, what: &'static str) -> Result<T, CallFailed> {
    succeeded(rec)?;
    contract::json::from_slice(rec.body().map(|b| b.as_ref()).unwrap_or_default()).map_err(|e| {
        CallFailed::Unreadable {
            what,
            error: e.to_string(),
        }
    })
}
