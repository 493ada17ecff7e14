//! **webhook mode — push, event-driven.** The whole flow, top to bottom:
//!
//! 1. **Outbox.** [`enqueue_order_created`] runs *inside* the transaction
//!    that writes the order (`orders::place_order`): it stores the
//!    `order.created` event as a message and one delivery row per
//!    subscribed endpoint. Either the order and its event both commit or
//!    neither does. The road not taken — "commit the order, then POST the
//!    webhook" — loses the event whenever the process dies between the two,
//!    and "POST, then commit" announces orders that never existed.
//! 2. **Wake-up.** After the commit the store pokes the [`OutboxDispatcher`]
//!    through an in-process `Notify`, so the first attempt leaves within
//!    milliseconds rather than on the next tick of a polling loop. A
//!    periodic sweep (`sweep_interval`) is only the safety net — for
//!    deliveries scheduled for later, and for events committed by another
//!    store process sharing the database.
//! 3. **Claim with a lease.** The dispatcher claims due deliveries by
//!    stamping them with its id and a lease expiry in one `UPDATE …
//!    RETURNING` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two
//!    dispatchers never send the same attempt at once. If a process dies
//!    mid-attempt its lease simply runs out and the delivery is claimed
//!    again: at-least-once, never zero.
//! 4. **Sign and send.** Each attempt is signed per Standard Webhooks
//!    (`contract::signing`) with a fresh `webhook-timestamp` and the same
//!    `webhook-id`, sent with a timeout and without following redirects,
//!    and at most `max_in_flight` attempts run concurrently.
//! 5. **Record and decide.** The attempt (request, response, latency,
//!    error) is written to the message log in the same transaction that
//!    moves the delivery on: `2xx` → succeeded; `410 Gone` → the endpoint
//!    is disabled (its queue waits); `429`/`503` with `Retry-After` → retry
//!    when told; anything else → retry on the [`retry`](super::retry)
//!    schedule with jitter, until it runs out and the delivery is `failed`
//!    (a person can redeliver it from the log).
//! 6. **Learn the outcome.** The inventory's `2xx` body says what it did
//!    (`contract::inventory::WebhookAck`): the order becomes `confirmed`,
//!    or `backordered` when the push oversold — the store accepted the
//!    order without knowing the stock, which is the price of push.
//!
//! The receiving half is `inventory::integration::webhook_receiver`.
//! Seen in the UI: the order timeline (each attempt with its signature
//! headers), the settings page's delivery log, and the flow page.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{AnyConnection, Row};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use contract::EventType;
use contract::events::{PingData, WebhookEvent};

const ORDER_CREATED: &str = "order.created";
const PING: &str = "ping";
use contract::ApplyOutcome;
use contract::inventory::WebhookAck;
use contract::order::Order;
use contract::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, signature_header};
use contract::{OrderStatus, Timestamp};
use platform::new_id;
use platform::outbound::{Recorded, send_recorded};
use platform::worker::{Next, Pacing, Worker};

use super::endpoints::{self, Format};
use super::retry::{parse_retry_after, with_jitter};
use crate::orders;
use crate::state::{AppState, OutcomeLabels};
use crate::timeline::{self, AttemptInfo, Channel, NewExchange};

// ---------------------------------------------------------------------------
// 1. The outbox: written in the order's transaction.
// ---------------------------------------------------------------------------

/// Writes the `order.created` event and a delivery for every enabled
/// endpoint that subscribes to it. Call inside the order's transaction.
pub async fn enqueue_order_created(
    conn: &mut AnyConnection,
    order: &Order,
    now: i64,
) -> Result<String, sqlx::Error> {
    let event = WebhookEvent {
        event_type: EventType::OrderCreated,
        timestamp: Timestamp(now),
        data: order.clone(),
    };
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let message_id =
        insert_message(conn, ORDER_CREATED, Some(order.id.as_str()), &payload, now).await?;
    let subscribers = sqlx::query(
        "SELECT id, event_types FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in subscribers {
        let id: String = row.try_get("id")?;
        let types: String = row.try_get("event_types")?;
        if types.split(',').any(|t| t == ORDER_CREATED || t == "*") {
            insert_delivery(
                conn,
                &message_id,
                &id,
                Some(order.id.as_str()),
                ORDER_CREATED,
                now,
                now,
            )
            .await?;
        }
    }
    Ok(message_id)
}

/// Stores a message (the event, as JSON: the canonical form every format
/// is rendered from). Its id is the `webhook-id` of every attempt.
pub async fn insert_message(
    conn: &mut AnyConnection,
    event_type: &str,
    order_id: Option<&str>,
    payload: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id("msg");
    sqlx::query("INSERT INTO webhook_messages (id, event_type, order_id, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(event_type)
        .bind(order_id)
        .bind(payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Queues one message for one endpoint, first attempt due at `due`.
pub async fn insert_delivery(
    conn: &mut AnyConnection,
    message_id: &str,
    endpoint_id: &str,
    order_id: Option<&str>,
    event_type: &str,
    now: i64,
    due: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id("dlv");
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, order_id, event_type, state, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7)",
    )
    .bind(&id)
    .bind(message_id)
    .bind(endpoint_id)
    .bind(order_id)
    .bind(event_type)
    .bind(due)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------
// 2-3. The dispatcher: wake, claim, fan out.
// ---------------------------------------------------------------------------

/// Delivers the outbox. One runs in every store process.
pub struct OutboxDispatcher {
    app: Arc<AppState>,
    /// This process's identity in lease columns.
    owner: String,
    slots: Arc<Semaphore>,
    in_flight: JoinSet<()>,
}

impl OutboxDispatcher {
    pub fn new(app: Arc<AppState>) -> OutboxDispatcher {
        let slots = Arc::new(Semaphore::new(app.config.webhook.max_in_flight.max(1)));
        OutboxDispatcher {
            owner: contract::DispatcherId::new().to_string(),
            app,
            slots,
            in_flight: JoinSet::new(),
        }
    }

    /// How it is woken (the moment an event commits) and its safety net.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.dispatcher_wake.clone(),
            sweep: Some(app.config.webhook.sweep_interval),
        }
    }

    /// How long a claim is good for: the request timeout plus room to
    /// record the result. Past it, another dispatcher may take over.
    fn lease(&self) -> Duration {
        self.app.config.webhook.timeout + Duration::from_secs(30)
    }

    /// Claims up to `limit` due deliveries for this dispatcher.
    async fn claim(&self, limit: i64) -> Result<Vec<String>, sqlx::Error> {
        let now = self.app.clock.now_ms();
        // The conditions appear twice on purpose: the inner SELECT picks
        // candidates, the outer WHERE re-checks each row as it is updated,
        // so a row another dispatcher claimed in between is not taken.
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
             WHERE id IN (\
                SELECT id FROM webhook_deliveries \
                WHERE state = 'pending' AND next_attempt_at <= $3 \
                  AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
                  AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL) \
                ORDER BY next_attempt_at LIMIT $4{skip_locked}) \
             AND state = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
             RETURNING id",
            skip_locked = self.app.db.skip_locked()
        ));
        let rows = sqlx::query(sql)
            .bind(&self.owner)
            .bind(now + self.lease().as_millis() as i64)
            .bind(now)
            .bind(limit)
            .fetch_all(self.app.db.writer())
            .await?;
        rows.iter().map(|r| r.try_get("id")).collect()
    }

    /// When the next delivery becomes due (or its lease runs out).
    async fn next_due(&self) -> Result<Option<i64>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at \
                        THEN lease_expires_at ELSE next_attempt_at END) AS due \
             FROM webhook_deliveries WHERE state = 'pending' \
               AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL)",
        )
        .fetch_one(self.app.db.pool())
        .await?;
        row.try_get("due")
    }
}

impl Worker for OutboxDispatcher {
    const NAME: &'static str = "webhook_dispatcher";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        // Reap finished attempts so the set does not grow.
        while self.in_flight.try_join_next().is_some() {}
        let free = self.slots.available_permits();
        if free == 0 {
            // Every slot is busy; each attempt wakes us as it finishes.
            return Ok(Next::Idle);
        }
        let ids = self.claim(free as i64).await?;
        let claimed_all = ids.len() == free;
        let wake: Arc<Notify> = self.app.dispatcher_wake.clone();
        for id in ids {
            let permit = self.slots.clone().acquire_owned().await?;
            let app = self.app.clone();
            let owner = self.owner.clone();
            let wake = wake.clone();
            let span = tracing::info_span!("webhook_delivery", delivery_id = %id);
            self.in_flight.spawn(
                async move {
                    if let Err(e) = attempt_delivery(&app, &owner, &id).await {
                        tracing::error!(error = %e, "delivery attempt could not be recorded");
                    }
                    drop(permit);
                    // A slot is free: look for more work.
                    wake.notify_one();
                }
                .instrument(span),
            );
        }
        if claimed_all {
            // There may be more due right now.
            return Ok(Next::Now);
        }
        Ok(match self.next_due().await? {
            Some(due) => Next::At(Timestamp(due)),
            None => Next::Idle,
        })
    }

    /// Graceful stop: let attempts in flight finish and be recorded, so a
    /// restart does not have to wait for their leases to expire.
    async fn stop(&mut self) {
        while self.in_flight.join_next().await.is_some() {}
    }
}

// ---------------------------------------------------------------------------
// 4-6. One attempt: sign, send, record, decide.
// ---------------------------------------------------------------------------

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Succeeded,
    /// `410 Gone`: disable the endpoint; the delivery waits for it.
    EndpointGone,
    /// Try again at this time (unix ms).
    RetryAt {
        at: i64,
        why: String,
    },
    /// The schedule is exhausted.
    GiveUp {
        why: String,
    },
}

/// Applies the retry policy to an attempt's result. `failures` counts this
/// failure too; `jitter_unit` is a uniform sample from [0, 1).
pub fn decide(
    rec: &Recorded,
    failures: u32,
    now: i64,
    settings: &crate::config::WebhookSettings,
    jitter_unit: f64,
) -> Decision {
    let why = match rec.status() {
        Some(s) if (200..300).contains(&s) => return Decision::Succeeded,
        Some(410) => return Decision::EndpointGone,
        Some(s) => format!("answered {s}"),
        None => rec.error().unwrap_or("no answer").to_owned(),
    };
    let Some(scheduled) = settings.retry_schedule.delay_after(failures) else {
        return Decision::GiveUp {
            why: format!(
                "{why}; gave up after {} attempts",
                settings.retry_schedule.max_attempts()
            ),
        };
    };
    // The receiver's own word on when to come back wins over our schedule.
    let told = match rec.status() {
        Some(429 | 503) => rec
            .response_header("retry-after")
            .and_then(|v| parse_retry_after(v, now)),
        _ => None,
    };
    let delay = match told {
        Some(d) => d,
        None => with_jitter(scheduled, settings.jitter, jitter_unit),
    };
    Decision::RetryAt {
        at: now + delay.as_millis() as i64,
        why,
    }
}

/// Renders a stored message in an endpoint's format. The JSON form is the
/// stored text itself, byte for byte: what is signed is exactly what was
/// committed with the order.
fn render_body(event_type: &str, payload: &str, format: Format) -> Result<String, String> {
    match format {
        Format::Json => Ok(payload.to_owned()),
        Format::Xml => {
            let xml = match event_type {
                ORDER_CREATED => serde_json::from_str::<WebhookEvent<Order>>(payload)
                    .map_err(|e| e.to_string())
                    .and_then(|ev| {
                        contract::xml::to_string("event", &ev).map_err(|e| e.to_string())
                    }),
                PING => serde_json::from_str::<WebhookEvent<PingData>>(payload)
                    .map_err(|e| e.to_string())
                    .and_then(|ev| {
                        contract::xml::to_string("event", &ev).map_err(|e| e.to_string())
                    }),
                other => Err(format!("no XML form for {other}")),
            }?;
            Ok(xml)
        }
    }
}

/// Runs one claimed delivery attempt end to end.
async fn attempt_delivery(
    app: &AppState,
    owner: &str,
    delivery_id: &str,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT d.message_id, d.endpoint_id, d.order_id, d.event_type, d.attempts, d.failures, d.next_trigger, \
                m.payload, e.url, e.format \
         FROM webhook_deliveries d \
         JOIN webhook_messages m ON m.id = d.message_id \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.id = $1 AND d.lease_owner = $2",
    )
    .bind(delivery_id)
    .bind(owner)
    .fetch_optional(app.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(()); // The lease was lost before we started.
    };
    let message_id: String = row.try_get("message_id")?;
    let endpoint_id: String = row.try_get("endpoint_id")?;
    let order_id: Option<String> = row.try_get("order_id")?;
    let event_type: String = row.try_get("event_type")?;
    let attempts: i64 = row.try_get("attempts")?;
    let failures: i64 = row.try_get("failures")?;
    let trigger: String = row.try_get("next_trigger")?;
    let payload: String = row.try_get("payload")?;
    let url: String = row.try_get("url")?;
    let format = Format::parse(&row.try_get::<String, _>("format")?).unwrap_or(Format::Json);

    let now = app.clock.now_ms();
    let secrets = {
        let mut conn = app.db.pool().acquire().await?;
        endpoints::signing_secrets(&mut conn, &endpoint_id, now).await?
    };
    let body =
        render_body(&event_type, &payload, format).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let timestamp = now.div_euclid(1000);
    let signature = signature_header(&secrets, &message_id, timestamp, body.as_bytes());

    let request = app
        .webhook_client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, format.content_type())
        .header(
            reqwest::header::USER_AGENT,
            concat!("pushpull-store/", env!("CARGO_PKG_VERSION")),
        )
        .header(HEADER_ID, &message_id)
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, signature)
        .body(body)
        .build();
    let rec = match request {
        Ok(request) => send_recorded(&app.webhook_client, request, now).await,
        Err(e) => Recorded {
            method: "POST".into(),
            url: url.clone(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: now,
            latency: Duration::ZERO,
            outcome: platform::outbound::Outcome::Failed {
                error: format!("could not build the request: {e}"),
                timed_out: false,
            },
        },
    };

    let attempt_no = attempts + 1;
    let after = app.clock.now_ms();
    let failures_now = if rec.is_success() { 0 } else { failures + 1 };
    let decision = decide(
        &rec,
        failures_now as u32,
        after,
        &app.config.webhook,
        rand::random::<f64>(),
    );
    tracing::info!(
        attempt_no, status = rec.status(), latency_ms = rec.latency_ms(), ?decision, trigger = %trigger,
        "webhook attempt"
    );

    // What the inventory says it did with the order, when it says so.
    let ack: Option<WebhookAck> = match (&decision, order_id.as_deref()) {
        (Decision::Succeeded, Some(_)) => rec.body().and_then(|b| serde_json::from_slice(b).ok()),
        _ => None,
    };

    let exchange = NewExchange::sent(Channel::Webhook, &rec).with_attempt(AttemptInfo {
        delivery_id: delivery_id.to_owned(),
        attempt_no,
        trigger: if trigger == "manual" {
            "manual"
        } else {
            "scheduled"
        },
    });
    let order_ids: Vec<&str> = order_id.as_deref().into_iter().collect();

    let (state, next_at, completed, last_error) = match &decision {
        Decision::Succeeded => ("succeeded", after, Some(after), None),
        Decision::EndpointGone => (
            "pending",
            after,
            None,
            Some("410 Gone: endpoint disabled".to_owned()),
        ),
        Decision::RetryAt { at, why } => ("pending", *at, None, Some(why.clone())),
        Decision::GiveUp { why } => ("failed", after, Some(after), Some(why.clone())),
    };

    let mut tx = app.db.begin_write().await?;
    let exchange_id = timeline::record(&mut tx, &exchange, &order_ids).await?;
    let moved = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, failures = $3, next_attempt_at = $4, \
         next_trigger = 'scheduled', lease_owner = NULL, lease_expires_at = NULL, last_status = $5, \
         last_error = $6, completed_at = $7, updated_at = $8 WHERE id = $9 AND lease_owner = $10",
    )
    .bind(state)
    .bind(attempt_no)
    .bind(if decision == Decision::EndpointGone { failures } else { failures_now })
    .bind(next_at)
    .bind(rec.status().map(i64::from))
    .bind(last_error.as_deref())
    .bind(completed)
    .bind(after)
    .bind(delivery_id)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        // Our lease expired mid-attempt and someone else owns the delivery
        // now; the attempt stays in the log but decides nothing.
        tracing::warn!(
            "lease lost during the attempt; result recorded, decision left to the new owner"
        );
    }
    if decision == Decision::EndpointGone {
        endpoints::disable_gone(&mut tx, &endpoint_id, after).await?;
    }
    let mut resolved = None;
    if let (Some(ack), Some(order_id)) = (&ack, order_id.as_deref()) {
        let (status, reason) = match ack.outcome {
            Some(ApplyOutcome::Applied) => (Some(OrderStatus::Confirmed), None),
            Some(ApplyOutcome::Backordered) => (
                Some(OrderStatus::Backordered),
                Some("Accepted, but the inventory is short: it will ship when restocked."),
            ),
            Some(ApplyOutcome::Rejected | ApplyOutcome::Voided) => (
                Some(OrderStatus::Rejected),
                Some("The inventory refused the order."),
            ),
            None => (None, None),
        };
        if let Some(status) = status
            && orders::resolve(&mut tx, order_id, status, reason, after).await?
        {
            resolved = Some((status, reason));
        }
    }
    tx.commit().await?;

    timeline::publish(&app.live, &exchange_id, &exchange, &order_ids);
    app.live.publish(
        "delivery.updated",
        serde_json::json!({"id": delivery_id, "state": state, "attempts": attempt_no, "order_id": order_id}),
    );
    if decision == Decision::EndpointGone {
        app.live
            .publish("endpoint.changed", serde_json::json!({"id": endpoint_id}));
    }
    let outcome = match &decision {
        Decision::Succeeded => "succeeded",
        Decision::EndpointGone => "gone",
        Decision::RetryAt { .. } => "retry",
        Decision::GiveUp { .. } => "failed",
    };
    app.metrics
        .webhook_attempts
        .get_or_create(&OutcomeLabels {
            outcome: outcome.into(),
        })
        .inc();
    if let (Some((status, reason)), Some(order_id)) = (resolved, order_id.as_deref()) {
        orders::announce_resolution(
            app,
            order_id,
            contract::IntegrationMode::Webhook,
            status,
            reason,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WebhookSettings;
    use bytes::Bytes;
    use platform::outbound::Outcome;

    fn rec(status: Option<u16>, headers: Vec<(&str, &str)>) -> Recorded {
        Recorded {
            method: "POST".into(),
            url: "http://x/".into(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: 0,
            latency: Duration::ZERO,
            outcome: match status {
                Some(status) => Outcome::Response {
                    status,
                    headers: headers
                        .into_iter()
                        .map(|(a, b)| (a.into(), b.into()))
                        .collect(),
                    body: Bytes::new(),
                },
                None => Outcome::Failed {
                    error: "could not connect: refused".into(),
                    timed_out: false,
                },
            },
        }
    }

    fn settings() -> WebhookSettings {
        WebhookSettings {
            jitter: 0.0,
            ..WebhookSettings::default()
        }
    }

    #[test]
    fn success_and_gone_are_final() {
        assert_eq!(
            decide(&rec(Some(204), vec![]), 0, 0, &settings(), 0.0),
            Decision::Succeeded
        );
        assert_eq!(
            decide(&rec(Some(410), vec![]), 1, 0, &settings(), 0.0),
            Decision::EndpointGone
        );
    }

    #[test]
    fn failures_follow_the_schedule_then_give_up() {
        let s = settings();
        let expected = [1_000, 5_000, 30_000, 120_000, 600_000];
        for (i, ms) in expected.iter().enumerate() {
            match decide(&rec(Some(500), vec![]), i as u32 + 1, 10, &s, 0.0) {
                Decision::RetryAt { at, .. } => assert_eq!(at, 10 + ms),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            decide(&rec(None, vec![]), 6, 0, &s, 0.0),
            Decision::GiveUp { .. }
        ));
        // Redirects count as failures: they are not followed.
        assert!(matches!(
            decide(&rec(Some(302), vec![]), 1, 0, &s, 0.0),
            Decision::RetryAt { .. }
        ));
    }

    #[test]
    fn retry_after_overrides_the_schedule_on_429_and_503_only() {
        let s = settings();
        let ra = vec![("retry-after", "42")];
        assert_eq!(
            decide(&rec(Some(429), ra.clone()), 1, 0, &s, 0.0),
            Decision::RetryAt {
                at: 42_000,
                why: "answered 429".into()
            }
        );
        assert!(matches!(
            decide(&rec(Some(503), ra.clone()), 1, 0, &s, 0.0),
            Decision::RetryAt { at: 42_000, .. }
        ));
        assert!(matches!(
            decide(&rec(Some(500), ra), 1, 0, &s, 0.0),
            Decision::RetryAt { at: 1_000, .. }
        ));
    }

    #[test]
    fn jitter_spreads_retries() {
        let s = WebhookSettings {
            jitter: 0.5,
            ..WebhookSettings::default()
        };
        match decide(&rec(Some(500), vec![]), 2, 0, &s, 0.5) {
            Decision::RetryAt { at, .. } => assert_eq!(at, 6_250),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_bodies_are_the_stored_bytes_and_xml_is_rendered() {
        let payload = r#"{"type":"ping","timestamp":"2024-01-01T00:00:00.000Z","data":{"endpoint_id":"whe_1","message":"hi"}}"#;
        assert_eq!(render_body(PING, payload, Format::Json).unwrap(), payload);
        let xml = render_body(PING, payload, Format::Xml).unwrap();
        assert!(xml.contains("<event><type>ping</type>"), "{xml}");
        assert!(xml.contains("<endpoint_id>whe_1</endpoint_id>"), "{xml}");
    }
}
