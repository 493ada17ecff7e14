//! What the inventory asks of the store — feed reads, acknowledgements,
//! hybrid mode's fetches — logged as it is answered, for the order
//! timelines and the flow page.
//!
//! **Many requests, one transaction.** In hybrid mode every order brings a
//! fetch, so the log of inbound requests is written like the orders and
//! the webhook attempts are: every request answered while the previous
//! write was committing goes into one transaction (`platform::group_commit`,
//! [`InboundLog`]). A fetch written alone costs a commit on the one SQLite
//! writer that placements need too; thirty-two fetches at once share one.
//! The price: an answer waits for its log entry's commit, as before — it
//! only no longer waits alone.

use actix_web::HttpRequest;

use contract::{Channel, ExchangeId, OrderId, Party, Timestamp};
use platform::group_commit::Batch;
use platform::outbound::headers_json;
use platform::{Db, redact};

use crate::context::Context;
use crate::timeline::{self, MAX_LOGGED_BODY, NewExchange};

/// A request the inventory made of the store, timed from its arrival, to
/// be logged with the answer once there is one.
pub struct Inbound {
    started: std::time::Instant,
    started_at: Timestamp,
}

impl Inbound {
    pub fn arrived(ctx: &Context) -> Inbound {
        Inbound {
            started: std::time::Instant::now(),
            started_at: ctx.clock.now(),
        }
    }

    /// Logs the request with the (JSON, `200`) answer it got.
    pub async fn record(
        self,
        ctx: &Context,
        req: &HttpRequest,
        channel: Channel,
        request_body: String,
        response_body: &str,
        order_ids: &[&OrderId],
    ) -> Result<ExchangeId, sqlx::Error> {
        let exchange = NewExchange {
            channel,
            initiator: Party::Inventory,
            method: req.method().to_string(),
            url: format!(
                "{}{}",
                ctx.config.public_url.trim_end_matches('/'),
                req.uri()
            ),
            // Credentials redacted, as everywhere in the log.
            request_headers: headers_json(&platform::redact::request_headers(req)),
            // Secrets hinted, as everywhere in the log (`platform::redact`).
            request_body: redact::for_log(&request_body, MAX_LOGGED_BODY),
            response_status: Some(200),
            response_headers: Some(r#"{"content-type":"application/json"}"#.into()),
            response_body: Some(redact::for_log(response_body, MAX_LOGGED_BODY)),
            error: None,
            latency_ms: self.started.elapsed().as_millis() as i64,
            started_at: self.started_at,
            attempt: None,
        };
        let ids: Vec<OrderId> = order_ids.iter().map(|id| (*id).clone()).collect();
        let id = ctx.inbound.submit((exchange.clone(), ids)).await?;
        timeline::publish(&ctx.live, &id, &exchange, order_ids);
        Ok(id)
    }
}

/// Writes inbound requests to the message log, many per transaction.
pub struct InboundLog {
    db: Db,
}

impl InboundLog {
    pub fn new(db: Db) -> InboundLog {
        InboundLog { db }
    }
}

impl Batch for InboundLog {
    /// The exchange, and the orders it carried.
    type Job = (NewExchange, Vec<OrderId>);
    type Done = ExchangeId;
    type Error = sqlx::Error;

    const MOST: usize = 100;

    async fn write_together(&self, jobs: &[Self::Job]) -> Result<Vec<ExchangeId>, sqlx::Error> {
        let logged: Vec<(&NewExchange, Vec<&OrderId>)> = jobs
            .iter()
            .map(|(exchange, orders)| (exchange, orders.iter().collect()))
            .collect();
        let mut tx = self.db.begin_write().await?;
        let ids = timeline::record_all(&mut tx, &logged).await?;
        tx.commit().await?;
        Ok(ids)
    }
}
