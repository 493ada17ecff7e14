//! **Replay: a delivered webhook, sent again exactly as it crossed, to a
//! URL of the learner's choosing.** The last attempt of a delivery is sent
//! once more — the same headers (its `webhook-id`, `webhook-timestamp` and
//! signature unchanged) and the same raw body — and the receiver's answer
//! is handed back, not acted on: a replay changes no order and no
//! delivery.
//!
//! What it teaches is the receiver's side of the contract. Replayed to the
//! inventory, the message is answered as a **duplicate** (it remembers
//! `webhook-id`s); five minutes after it was signed, it is refused for its
//! stale timestamp, which is what stops an eavesdropper's replay.
//! Replayed to the capture inbox (`/inbox/{name}` on the inventory), it
//! can be read and checked by hand.
//!
//! Unlike Redeliver (`super::deliveries::redeliver`), which queues a new,
//! freshly signed attempt of the same message, a replay is not signed
//! again — so a receiver's timestamp window shows. The destination is
//! someone's input, so it passes the same checks as an endpoint's URL
//! (`super::destination`), through the same client: no redirects, every
//! resolved address allow-listed.

use contract::{Channel, DeliveryId, Party};
use platform::outbound::{Recorded, send_recorded};

use super::{Webhooks, deliveries, destination};
use crate::error::StoreError;
use crate::timeline;

/// Headers a replay does not copy: the client writes its own, for the
/// connection and body it actually sends.
const NOT_COPIED: &[&str] = &["host", "content-length", "connection", "transfer-encoding"];

/// Sends the last attempt of delivery `id` again, to `url`, and returns
/// the exchange as it went (nothing is recorded or resolved).
#[tracing::instrument(skip(hooks), fields(delivery_id = %id))]
pub async fn replay(hooks: &Webhooks, id: &DeliveryId, url: &str) -> Result<Recorded, StoreError> {
    let url = destination::validate_url(url.trim(), &hooks.ctx.config.webhook.allowed_hosts)
        .map_err(|m| StoreError::invalid("url", m))?;
    deliveries::get(hooks, id).await?; // 404 if there is no such delivery
    let attempts = timeline::for_delivery(&hooks.ctx.db, id).await?;
    let last = attempts
        .iter()
        .rev()
        .find(|ex| ex.channel == Channel::Webhook && ex.initiator == Party::Store)
        .ok_or_else(|| {
            StoreError::conflict(
                "this delivery has not been attempted yet: there is nothing to replay",
            )
        })?;
    let mut request = hooks.client.post(url.as_str());
    for (name, value) in platform::ui::header_pairs(&last.request_headers) {
        if !NOT_COPIED.contains(&name.to_ascii_lowercase().as_str()) {
            request = request.header(name, value);
        }
    }
    let request = request
        .body(last.request_body.clone())
        .build()
        .map_err(|e| StoreError::invalid("url", format!("could not build the request: {e}")))?;
    let sent = send_recorded(&hooks.client, request, hooks.ctx.clock.now().millis()).await;
    tracing::info!(url = %url, status = ?sent.status(), "webhook replayed by hand");
    Ok(sent)
}
