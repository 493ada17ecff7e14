//! **A test event:** a signed `ping` sent to one endpoint now, carrying
//! the usual hello or text the learner wrote — signed, delivered, retried
//! and logged like any order's event, so an endpoint (the capture inbox,
//! say) can be tried before any order exists. It is a `ping`, not an event
//! type of its own, so a receiver that knows the contract acknowledges it
//! and changes nothing (the inventory's receiver does exactly that). The
//! trade-off: the learner edits the text, not the envelope — an envelope
//! of their own design would be a message no receiver has agreed to.

use contract::EndpointId;

use super::{Webhooks, endpoints, outbox};
use crate::error::StoreError;

/// The longest text a test ping may carry.
pub const MAX_PING_MESSAGE: usize = 500;

/// Sends an endpoint a signed `ping` now (the settings page's button).
/// `message`: the ping's text, as a person wrote it for a test event (at
/// most [`MAX_PING_MESSAGE`] characters, nothing hidden in it); none, the
/// usual hello.
pub async fn ping(
    hooks: &Webhooks,
    id: &EndpointId,
    message: Option<&str>,
) -> Result<contract::MessageId, StoreError> {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    if let Some(m) = message {
        if m.chars().count() > MAX_PING_MESSAGE {
            return Err(StoreError::invalid(
                "message",
                format!("at most {MAX_PING_MESSAGE} characters"),
            ));
        }
        contract::human_text::check("a message", m)
            .map_err(|e| StoreError::invalid("message", e))?;
    }
    endpoints::get(hooks, id).await?;
    let mut tx = hooks.ctx.db.begin_write().await?;
    let message_id = outbox::enqueue_ping(
        &mut tx,
        id,
        hooks.ctx.clock.now(),
        std::time::Duration::ZERO,
        message,
    )
    .await?;
    tx.commit().await?;
    hooks.dispatch.look_at(hooks.ctx.clock.now());
    Ok(message_id)
}
