//! What a learner can do to an order's webhook from its page, each a plain
//! form that works without JavaScript:
//!
//! * **Redeliver** — a new attempt of the same message (same `webhook-id`,
//!   signed afresh), queued now; then `303` back to the order, whose live
//!   region follows it.
//! * **Replay** — the last attempt sent again *unchanged* to a URL the
//!   learner types (the inventory's receiver by default), and the
//!   receiver's answer shown on a page of its own. The why is in
//!   `crate::integration::webhook::replay`.
//!
//! The replay's answer is rendered in the response to the form rather than after a
//! redirect: it exists only once, like a secret shown on creation, and
//! nothing about it is stored to be shown again.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::{DeliveryId, OrderId};
use platform::ApiError;
use platform::guard::Operator;
use platform::ui::{Layout, duration_ms, pretty_body, see_other};

use super::{Data, PageError, layout, page};
use crate::error::StoreError;
use crate::integration::webhook::{deliveries, replay};
use crate::routes::id_from_path;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ReplayForm {
    url: String,
}

#[derive(Template)]
#[template(path = "store/replayed.html")]
pub struct ReplayedPage {
    pub layout: Layout,
    pub order_id: String,
    pub url: String,
    /// "200 OK", or why there was no answer; or why nothing was sent.
    pub outcome: String,
    pub answered: bool,
    pub body: Option<String>,
    pub latency: String,
    pub inventory_url: String,
}

/// `POST /orders/{id}/deliveries/{delivery}/replay`.
pub async fn replay_form(
    _: Operator,
    app: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ReplayForm>,
) -> Result<HttpResponse, PageError> {
    let (order_id, delivery_id) = delivery_of_order(&app, path.into_inner()).await?;
    let mut template = ReplayedPage {
        layout: layout(&app, &req, "Replayed"),
        order_id: order_id.to_string(),
        url: form.url.trim().to_owned(),
        outcome: String::new(),
        answered: false,
        body: None,
        latency: String::new(),
        inventory_url: app
            .ctx
            .config
            .inventory_public_url
            .trim_end_matches('/')
            .to_owned(),
    };
    let status = match replay::replay(&app.webhooks, &delivery_id, &form.url).await {
        Ok(sent) => {
            template.answered = sent.status().is_some();
            template.outcome = match (sent.status(), sent.error()) {
                (Some(s), _) => StatusCode::from_u16(s)
                    .map(|c| format!("{s} {}", c.canonical_reason().unwrap_or("")))
                    .unwrap_or_else(|_| s.to_string()),
                (None, Some(e)) => format!("no answer: {e}"),
                (None, None) => "no answer".into(),
            };
            template.body = sent
                .body()
                .map(|b| pretty_body(&String::from_utf8_lossy(b)));
            template.latency = duration_ms(sent.latency_ms());
            StatusCode::OK
        }
        Err(StoreError::Api(ApiError::Validation(errors))) => {
            template.outcome = format!(
                "Not sent: {}",
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(other) => return Err(other.into()),
    };
    page(&app, status, &template)
}

/// `POST /orders/{id}/deliveries/{delivery}/redeliver`: another attempt of
/// the same message, now; then back to the order, whose page follows it.
pub async fn redeliver(
    _: Operator,
    app: Data,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (order_id, delivery_id) = delivery_of_order(&app, path.into_inner()).await?;
    let back = |notice: &str| see_other(&format!("/orders/{order_id}?notice={notice}#delivery"));
    match deliveries::redeliver(&app.webhooks, &delivery_id).await {
        Ok(_) => Ok(back("redelivered")),
        Err(StoreError::Api(ApiError::Conflict(_))) => Ok(back("redeliver-busy")),
        Err(StoreError::EndpointDeleted) => Ok(back("redeliver-deleted")),
        Err(other) => Err(other.into()),
    }
}

/// The order and delivery a form's path names — only a delivery of that
/// order: a page acts on its own order's deliveries, never another's.
async fn delivery_of_order(
    app: &AppState,
    (raw_order, raw_delivery): (String, String),
) -> Result<(OrderId, DeliveryId), PageError> {
    let order_id: OrderId = id_from_path("order", &raw_order)?;
    let delivery_id: DeliveryId = id_from_path("delivery", &raw_delivery)?;
    let delivery = deliveries::get(&app.webhooks, &delivery_id).await?;
    if delivery.order_id.as_ref() != Some(&order_id) {
        return Err(StoreError::not_found("delivery", delivery_id.as_str()).into());
    }
    Ok((order_id, delivery_id))
}
