//! Steps 4 to 6 — **one attempt**, top to bottom: find where the claimed
//! delivery goes, sign and send it, decide, then record, resolve and
//! publish.
//!
//! * **Sign and send.** Each attempt is signed per Standard Webhooks
//!   (`contract::signing`) with a fresh `webhook-timestamp` and the same
//!   `webhook-id` (the message id), with every secret of the endpoint still
//!   valid (two during a rotation), and sent with a timeout and without
//!   following redirects. The body is the stored JSON byte for byte, or its
//!   XML rendering for an endpoint that asked for XML.
//! * **Decide** ([`super::retry::decide`]): succeeded, endpoint gone, retry
//!   when, or give up.
//! * **Record and resolve** ([`super::recorder`]). The attempt (request,
//!   response, latency, error) is written to the message log in the same
//!   transaction that moves the delivery on — and, when the inventory's
//!   `2xx` body says what it did with the order
//!   (`contract::inventory::WebhookAck`) — and the endpoint is the
//!   inventory's own subscription, not an observer — that resolves the order:
//!   `confirmed`, or `backordered` when the push oversold. The store
//!   accepted the order without knowing the stock; that is the price of
//!   push. Attempts that finish together are recorded together.
//! * **Publish**, after the commit: the live views, the metrics, the
//!   order's resolution.

use std::time::Duration;

use contract::events::{NoticeData, PingData, WebhookEvent};
use contract::order::Order;
use contract::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, signature_header};
use contract::{EventType, Format, OrderId};
use platform::lease::Held;
use platform::outbound::{Failure, Outcome, Recorded, send_recorded};

use super::Webhooks;
use super::delivery::Claimed;
use super::destination;
use super::recorder::{AttemptRecorded, Finished};
use super::retry::{self, Decision};
use super::targets::Target;
use crate::context::OutcomeLabels;
use crate::orders;
use crate::timeline;

/// Why an attempt could not run or be recorded (its delivery is still
/// leased, and is taken up again when the lease runs out).
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("recording the attempt failed: {0}")]
    Recording(#[from] platform::group_commit::CommitError<sqlx::Error>),
}

/// Runs one claimed delivery attempt end to end. `place` is its place on
/// the wire, given back (dropped) the moment the answer is in; `held`, its
/// lease, kept (renewed) until the result is recorded.
pub(super) async fn run<P>(
    hooks: &Webhooks,
    claimed: Claimed,
    held: Held,
    place: P,
) -> Result<(), AttemptError> {
    // 4. Where it goes, and with which secrets; sign it, send it.
    let target = hooks
        .targets
        .get(&hooks.ctx.db, &claimed.endpoint_id)
        .await?;
    let Some(target) = target.filter(|t| t.live) else {
        // Disabled or deleted since it was queued: it waits in the database.
        drop(place);
        hooks.dispatch.release(&hooks.ctx.db, &claimed.id).await?;
        return Ok(());
    };
    if target.resolves {
        hooks.dispatch.widen_for_resolver(&claimed.endpoint_id);
    }
    let rec = sign_and_send(hooks, &claimed, &target).await;
    drop(place);

    // 5. Decide.
    let failures = if rec.is_success() {
        0
    } else {
        claimed.failures + 1
    };
    let now = hooks.ctx.clock.now();
    let decision = retry::decide(
        &rec,
        failures as u32,
        now,
        &hooks.ctx.config.webhook,
        rand::random::<f64>(),
    );
    tracing::info!(
        attempt_no = claimed.attempts + 1, status = rec.status(), latency_ms = rec.latency_ms(),
        ?decision, trigger = %claimed.next_trigger, "webhook attempt"
    );

    // 6. Record and resolve — together with every other attempt that
    // finished meanwhile (see `super::recorder`); then publish.
    let finished = Finished {
        claimed,
        rec,
        decision,
        failures,
        resolves: target.resolves,
        at: now,
    };
    let (claimed, decision) = (finished.claimed.clone(), finished.decision.clone());
    let written = hooks
        .recorder
        .submit(finished)
        .await
        .map_err(AttemptError::Recording)?;
    drop(held); // recorded: the lease was given back with it
    if let Decision::RetryAt { at, .. } = &decision {
        hooks.dispatch.look_at(*at);
    }
    publish(hooks, &claimed, &decision, &written);
    Ok(())
}

/// Step 4: renders the body, signs it with every valid secret of the
/// endpoint, and sends it.
async fn sign_and_send(hooks: &Webhooks, claimed: &Claimed, target: &Target) -> Recorded {
    let now = hooks.ctx.clock.now();
    // The allow-list again, now (an address literal never reaches the
    // client's resolver, which checks names: see `super::destination`).
    if let Err(refused) =
        destination::validate_url(&target.url, &hooks.ctx.config.webhook.allowed_hosts)
    {
        return not_sent(target, now, format!("destination refused: {refused}"));
    }
    let secrets = target.signing_secrets(now);
    let body = match render_body(claimed.event_type, &claimed.payload, target.format) {
        Ok(body) => body,
        Err(e) => return not_sent(target, now, format!("could not render the body: {e}")),
    };
    let timestamp = now.unix_seconds();
    let signature = signature_header(
        &secrets,
        claimed.message_id.as_str(),
        timestamp,
        body.as_bytes(),
    );
    let request = hooks
        .client
        .post(&target.url)
        .header(reqwest::header::CONTENT_TYPE, target.format.content_type())
        .header(
            reqwest::header::USER_AGENT,
            concat!("pushpull-store/", env!("CARGO_PKG_VERSION")),
        )
        .header(HEADER_ID, claimed.message_id.as_str())
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, signature)
        .body(body)
        .build();
    match request {
        Ok(request) => send_recorded(&hooks.client, request, now.millis()).await,
        Err(e) => not_sent(target, now, format!("could not build the request: {e}")),
    }
}

/// An attempt that failed before anything was sent.
fn not_sent(target: &Target, now: contract::Timestamp, error: String) -> Recorded {
    Recorded {
        method: "POST".into(),
        url: target.url.clone(),
        request_headers: vec![],
        request_body: String::new(),
        started_at_ms: now.millis(),
        latency: Duration::ZERO,
        outcome: Outcome::Failed {
            kind: Failure::NotSent,
            error,
        },
    }
}

/// Renders a stored message in an endpoint's format. The JSON form is the
/// stored text itself, byte for byte: what is signed is exactly what was
/// committed with the order.
fn render_body(event_type: EventType, payload: &str, format: Format) -> Result<String, String> {
    fn xml<T: serde::de::DeserializeOwned + serde::Serialize>(
        payload: &str,
    ) -> Result<String, String> {
        let event: WebhookEvent<T> = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        contract::xml::to_string("event", &event).map_err(|e| e.to_string())
    }
    match (format, event_type) {
        (Format::Json, _) => Ok(payload.to_owned()),
        (Format::Xml, EventType::OrderCreated) => xml::<Order>(payload),
        (Format::Xml, EventType::OrderNotice) => xml::<NoticeData>(payload),
        (Format::Xml, EventType::Ping) => xml::<PingData>(payload),
    }
}

/// After the commit: the live views, the metric, the order's resolution.
fn publish(hooks: &Webhooks, claimed: &Claimed, decision: &Decision, written: &AttemptRecorded) {
    let order_ids: Vec<&OrderId> = claimed.order_id.iter().collect();
    timeline::publish(
        &hooks.ctx.live,
        &written.exchange_id,
        &written.exchange,
        &order_ids,
    );
    hooks
        .ctx
        .live
        .publish_with(contract::LiveEventKind::DeliveryUpdated, || {
            crate::live::DeliveryUpdatedData {
                id: claimed.id.clone(),
                state: written.state,
                attempts: Some(claimed.attempts + 1),
                order_id: claimed.order_id.clone(),
            }
        });
    if *decision == Decision::EndpointGone {
        hooks.targets.forget(&claimed.endpoint_id);
        hooks.ctx.live.publish(
            contract::LiveEventKind::EndpointChanged,
            crate::live::EndpointChangedData {
                id: claimed.endpoint_id.clone(),
            },
        );
    }
    hooks
        .ctx
        .metrics
        .webhook_attempts
        .get_or_create(&OutcomeLabels {
            outcome: decision.outcome().into(),
        })
        .inc();
    if let (Some((status, reason)), Some(order_id)) = (&written.resolved, &claimed.order_id) {
        orders::announce_resolution(
            &hooks.ctx,
            order_id,
            super::recorder::order_mode(claimed.event_type),
            *status,
            reason.as_deref(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_the_stored_bytes_and_xml_is_rendered() {
        let payload = r#"{"type":"ping","timestamp":"2024-01-01T00:00:00.000Z","data":{"endpoint_id":"whe_1","message":"hi"}}"#;
        assert_eq!(
            render_body(EventType::Ping, payload, Format::Json).unwrap(),
            payload
        );
        let xml = render_body(EventType::Ping, payload, Format::Xml).unwrap();
        assert!(xml.contains("<event><type>ping</type>"), "{xml}");
        assert!(xml.contains("<endpoint_id>whe_1</endpoint_id>"), "{xml}");
    }
}
