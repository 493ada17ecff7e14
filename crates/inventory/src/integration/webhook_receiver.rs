//! **webhook mode, the receiving half: `POST /webhooks/store`.**
//!
//! A webhook receiver is an open door on the internet, so the order of
//! operations is the security model — and the order the receiver's
//! `take_in` reads:
//!
//! 1. **Read the raw bytes**, and nothing else yet. The signature covers
//!    the bytes as sent; parsing first and verifying a re-serialisation
//!    would verify the wrong thing.
//! 2. **Verify** (its `verify`, with `contract::signing::verify`): the three
//!    Standard Webhooks headers present, the timestamp within ±5 minutes of
//!    our clock (`400` otherwise — a replayed capture is stale), and a `v1`
//!    signature that matches under one of our secrets, compared in constant
//!    time (`401` otherwise). A refused request changes nothing — except
//!    that a signature matching none of our secrets asks (at most once per
//!    interval) for our secret to be checked against the store's, in case
//!    it was rotated without us (`super::webhook_secrets`).
//! 3. **Deduplicate on `webhook-id`**: the store retries until it sees a
//!    2xx, so the same message can arrive twice (our 2xx was lost, a person
//!    pressed "redeliver"). The id is looked up in the inbox and noted
//!    there (`crate::idempotency`) in the same transaction as the effect;
//!    a repeat finds it and answers `200` with `"duplicate": true` and the
//!    first outcome — a 2xx, or the sender would keep retrying something
//!    we already have.
//! 4. **Apply the order once** (through `super::apply::apply_orders_once`),
//!    keyed by order id — so even a *different* message about the same
//!    order (another endpoint, a replay after a mode switch) takes stock
//!    once. A shortage does not fail the webhook (the store has already
//!    accepted the order): the order is recorded `backordered` and the
//!    answer says so, which is how the store learns to show it.
//! 5. **Answer fast**: steps 3 and 4 are one short transaction — shared
//!    with every webhook and api call that arrives at the same moment
//!    (`super::intake`) — and the answer leaves once it has committed.
//!    Slow work belongs after the 2xx (a real receiver would queue it),
//!    because the sender's timeout is ticking.
//!
//! **Hybrid mode's thin `order.notice`** takes the same steps, with one
//! more between 2 and 3: the notice carries no order, so the order it
//! names is fetched from the store's API (`super::notice`) and that is
//! what is applied — logged as `notify`, beside the `fetch`.
//!
//! Seen in the UI: the inventory's message log marks each webhook verified
//! or refused, applied, backordered or duplicate; chaos can make this
//! endpoint fail, slow down or refuse signatures.

use std::sync::Arc;
use std::time::Instant;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use contract::events::{EventTypeOnly, OrderCreated, OrderNotice};
use contract::inventory::WebhookAck;
use contract::signing::{
    self, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders, VerifyError, WebhookSecret,
};
use contract::{
    ApplyOutcome, Channel, EventType, Format, IntegrationMode, OrderId, Timestamp, Verdict,
    VerdictKind,
};
use platform::group_commit::GroupCommit;
use platform::{ApiError, Db};

use super::apply::{Applied, OrderToApply, note_applied};
use super::intake::{Answer, Arrival, Handled, Intake, WebhookMessage};
use super::notice::{self, NoticesSeen};
use super::webhook_secrets::Secrets;
use crate::context::Context;
use crate::error::InventoryError;
use crate::idempotency::WebhookId;
use crate::instruments::messages::Request;
use crate::instruments::metrics::VerdictLabels;
use crate::reply::{Reply, body_format, read_body};
use crate::stock::Quantities;
use crate::store_api::StoreApi;

/// The receiver: the secrets it verifies with, and the intake it hands
/// verified messages to.
pub struct WebhookReceiver {
    secrets: Arc<Secrets>,
    intake: Arc<Intake>,
    /// Where a hybrid notice's order is fetched from.
    store: StoreApi,
    /// Which notices came before (not fetched again), asked many at once.
    notices_seen: GroupCommit<NoticesSeen>,
}

impl WebhookReceiver {
    pub fn new(
        db: Db,
        secrets: Arc<Secrets>,
        intake: Arc<Intake>,
        store: StoreApi,
    ) -> WebhookReceiver {
        WebhookReceiver {
            secrets,
            intake,
            store,
            notices_seen: GroupCommit::new(NoticesSeen::new(db)),
        }
    }

    /// `POST /webhooks/store`: a message taken in — or refused — and the
    /// answer, logged and counted.
    pub async fn receive(&self, ctx: &Context, req: &HttpRequest, body: &[u8]) -> Reply {
        let mut request = Request::of(req, Channel::Webhook, body, Instant::now(), ctx.clock.now());
        let answer = match self.take_in(ctx, req, body, &mut request).await {
            Ok(answer) => answer,
            Err(e) => {
                // Refused before anything was applied: logged on its own.
                let answer = refused(&request, &e);
                ctx.log.record(answer.log.clone()).await;
                answer
            }
        };
        ctx.metrics
            .webhooks_received
            .get_or_create(&VerdictLabels::new(answer.verdict.kind))
            .inc();
        answer.reply
    }

    /// Steps 1 to 5; the answer, logged. An error: refused before the intake.
    async fn take_in(
        &self,
        ctx: &Context,
        req: &HttpRequest,
        body: &[u8],
        request: &mut Request,
    ) -> Result<Answer, InventoryError> {
        ctx.chaos.gate().await?;
        let now = ctx.clock.now();

        // 1-2. Verify the raw bytes before looking inside them.
        let webhook_id = self.verify(ctx, req, body, now).await?;
        let format = body_format(req).unwrap_or(Format::Json);
        let envelope: EventTypeOnly = read_body(format, body).map_err(ApiError::MalformedBody)?;
        let known = EventType::parse(&envelope.event_type).ok();
        if known == Some(EventType::OrderNotice) {
            *request = request.clone().on_channel(Channel::Notify);
        }
        if ctx.chaos.drops_webhooks() {
            return Ok(dropped(ctx, request, &webhook_id).await);
        }
        let (order, fetched_with) = match known {
            Some(EventType::OrderCreated) => (Some(order_of(format, body)?), None),
            // Hybrid: the notice names the order; what to apply is fetched.
            Some(EventType::OrderNotice) => {
                let notice: OrderNotice =
                    read_body(format, body).map_err(ApiError::MalformedBody)?;
                if notice::seen_before(&self.notices_seen, &webhook_id).await? {
                    (None, None)
                } else {
                    let fetched =
                        notice::fetch_order(ctx, &self.store, &notice.data.order_id).await?;
                    (Some(fetched.order), Some(fetched.message))
                }
            }
            // A ping is noted; an unknown type too — acknowledged, not refused:
            // a sender that adds an event type must not break receivers.
            Some(EventType::Ping) | None => (None, None),
        };

        // 3-4. Deduplicate on webhook-id and apply the order once, in one
        // transaction (shared with whatever arrives at the same moment),
        // which logs the answer too.
        let verified = Verified {
            request: request.clone(),
            webhook_id: webhook_id.clone(),
            event_type: envelope.event_type.clone(),
            known,
            order_id: order.as_ref().map(|o| o.order_id.clone()),
        };
        let arrival = Arrival {
            order,
            message: Some(WebhookMessage {
                id: webhook_id,
                event_type: envelope.event_type,
            }),
            answerer: Some(Arc::new(move |handled| verified.answer(handled))),
            fetched_with,
        };
        let (answer, handled) = self.intake.answer(&ctx.log, arrival).await;

        // 5. Answer (`receive` sends and counts it); tell open pages the
        // stock moved.
        if let (Ok(Handled::Applied(applied)), Some(order_id)) = (&handled, &answer.log.order_id) {
            let channel = match known {
                Some(EventType::OrderNotice) => IntegrationMode::Hybrid,
                _ => IntegrationMode::Webhook,
            };
            note_applied(ctx, channel, order_id, applied);
        }
        Ok(answer)
    }

    /// Checks the Standard Webhooks signature over the raw body; the
    /// message's `webhook-id` when it verifies.
    async fn verify(
        &self,
        ctx: &Context,
        req: &HttpRequest,
        body: &[u8],
        now: Timestamp,
    ) -> Result<WebhookId, InventoryError> {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        let headers = SignedHeaders {
            id: header(HEADER_ID),
            timestamp: header(HEADER_TIMESTAMP),
            signature: header(HEADER_SIGNATURE),
        };
        let tolerance = ctx.config.webhook_tolerance.as_secs() as i64;
        let check = |secrets: &[WebhookSecret]| {
            signing::verify(secrets, headers, body, now.unix_seconds(), tolerance)
                .map(str::to_owned)
        };
        let verified = if ctx.chaos.rejects_signatures() {
            // As if we held the wrong secret.
            check(&[])
        } else {
            let verified = self.secrets.verify(&ctx.db, check).await?;
            // A signature that none of our secrets verifies may be signed
            // with one we never got: the store's secret may have been
            // rotated without us. A forger gets here too, so this only asks
            // for a check of our secret against the store's fingerprints —
            // at most once per interval — and only that check may rotate.
            if verified == Err(VerifyError::NoMatchingSignature) && self.secrets.ask_for_check(now)
            {
                ctx.metrics.secret_checks.inc();
                tracing::warn!(
                    "a webhook signature matched none of our secrets; checking ours against the store's"
                );
            }
            verified
        };
        let webhook_id = verified.map_err(InventoryError::Signature)?;
        WebhookId::parse(&webhook_id).ok_or_else(|| {
            InventoryError::bad_request(format!(
                "the webhook-id header must be 1 to {} visible ASCII characters",
                contract::keys::MAX_KEY_CHARS
            ))
        })
    }
}

/// A verified message, as its answer needs it: the answer is made in the
/// intake's transaction, from what became of the message.
struct Verified {
    request: Request,
    webhook_id: WebhookId,
    /// The sender's word for its type, and the type if it is one we know.
    event_type: String,
    known: Option<EventType>,
    order_id: Option<OrderId>,
}

impl Verified {
    /// The answer — an acknowledgement, or a refusal — and its verdict.
    fn answer(&self, handled: &Result<Handled, InventoryError>) -> Answer {
        let (ack, verdict) = match handled {
            Ok(Handled::Duplicate(noted)) => (
                self.ack(true, noted.order_id.clone(), noted.outcome),
                Verdict::with_detail(VerdictKind::Duplicate, "already received"),
            ),
            Ok(Handled::NothingToApply) => {
                let detail = match self.known {
                    Some(_) => "ping".to_owned(),
                    None => format!("unknown event type {}, ignored", self.event_type),
                };
                let verdict = Verdict::with_detail(VerdictKind::Verified, detail);
                (self.ack(false, None, None), verdict)
            }
            Ok(Handled::Applied(applied)) => (
                self.ack(false, self.order_id.clone(), Some(applied.outcome)),
                applied_verdict(applied),
            ),
            Err(e) => return refused(&self.request, e),
        };
        let reply = Reply::negotiated(StatusCode::OK, Format::Json, "ack", &ack);
        let log = self
            .request
            .answered(&reply, verdict.clone())
            .about(ack.order_id);
        Answer {
            reply,
            verdict,
            log,
        }
    }

    fn ack(
        &self,
        duplicate: bool,
        order_id: Option<OrderId>,
        outcome: Option<ApplyOutcome>,
    ) -> WebhookAck {
        WebhookAck {
            webhook_id: self.webhook_id.to_string(),
            duplicate,
            order_id,
            outcome,
        }
    }
}

/// Chaos: a verified message answered `200` and otherwise ignored — as a
/// receiver that loses what it was sent would. The sender sees success and
/// will not retry: a webhook order stays pending for good, a hybrid order
/// waits for the reconciliation.
async fn dropped(ctx: &Context, request: &Request, webhook_id: &WebhookId) -> Answer {
    let ack = WebhookAck {
        webhook_id: webhook_id.to_string(),
        duplicate: false,
        order_id: None,
        outcome: None,
    };
    let reply = Reply::negotiated(StatusCode::OK, Format::Json, "ack", &ack);
    let verdict = Verdict::with_detail(
        VerdictKind::Verified,
        "dropped (chaos): answered 200 and did nothing",
    );
    let log = request.answered(&reply, verdict.clone());
    ctx.log.record(log.clone()).await;
    Answer {
        reply,
        verdict,
        log,
    }
}

/// The answer to a message that was not taken in.
fn refused(request: &Request, error: &InventoryError) -> Answer {
    let reply = Reply::problem(error, Format::Json);
    let verdict = refusal_verdict(error);
    Answer {
        log: request.answered(&reply, verdict.clone()),
        reply,
        verdict,
    }
}

/// The order an `order.created` event carries, to apply.
fn order_of(format: Format, body: &[u8]) -> Result<OrderToApply, InventoryError> {
    let event: OrderCreated = read_body(format, body).map_err(ApiError::MalformedBody)?;
    let order = event.data;
    // Typed already, yet held to the rules every door shares (one line
    // per SKU, bounded lines and text): a signed order that breaks them is
    // refused, not summed or stored.
    contract::validation::check_order(&order).map_err(ApiError::Validation)?;
    Ok(OrderToApply {
        wanted: Quantities::of_order(&order),
        order_id: order.id,
        channel: IntegrationMode::Webhook,
        order_created_at: Some(order.created_at),
    })
}

/// What the log says of an `order.created` applied (or found applied
/// before).
fn applied_verdict(applied: &Applied) -> Verdict {
    if applied.first_time {
        Verdict::new(applied.outcome.into())
    } else {
        Verdict::with_detail(
            VerdictKind::Duplicate,
            format!(
                "order already seen via {} ({})",
                applied.first_channel, applied.outcome
            ),
        )
    }
}

/// What the log says about a webhook that was not taken in. A body that
/// cannot be read *after* its signature verified is the sender's bug, not
/// an impostor: it is logged as failed, so the log does not call its
/// signature refused.
fn refusal_verdict(error: &InventoryError) -> Verdict {
    match error {
        InventoryError::Api(ApiError::MalformedBody(_)) => Verdict::with_detail(
            VerdictKind::Failed,
            "signed, but the body could not be read",
        ),
        other => other.verdict(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::signing::VerifyError;

    #[test]
    fn refusals_say_whether_the_signature_was_to_blame() {
        let refused = refusal_verdict(&InventoryError::Signature(VerifyError::NoMatchingSignature));
        assert_eq!(refused.to_string(), "refused: bad signature");
        let unreadable = refusal_verdict(&ApiError::MalformedBody("x".into()).into());
        assert_eq!(unreadable.kind, VerdictKind::Failed);
        assert_eq!(
            refusal_verdict(&InventoryError::ChaosDown).kind,
            VerdictKind::Refused
        );
    }
}
