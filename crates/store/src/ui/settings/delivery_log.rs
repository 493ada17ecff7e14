//! The settings page's delivery log: every webhook delivery, newest first,
//! filterable by state, with a "redeliver" button on each (see
//! `integration::webhook::deliveries`).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::{DeliveryId, DeliveryState, EventType, OrderId};
use platform::ApiError;
use platform::guard::Operator;
use platform::ui::{clock_time, date_time, duration_ms, see_other};

use super::{Data, PageError, fragment};
use crate::error::StoreError;
use crate::integration::webhook::deliveries;
use crate::routes::id_from_path;

/// Rows in the delivery log.
pub const DELIVERY_LIMIT: i64 = 30;

pub struct DeliveryRow {
    pub id: DeliveryId,
    pub created: String,
    pub created_full: String,
    pub event_type: EventType,
    pub order_id: Option<OrderId>,
    pub endpoint_url: String,
    pub state: DeliveryState,
    pub state_tone: &'static str,
    /// Anything but a cancelled delivery (its endpoint is gone) can go again.
    pub redeliverable: bool,
    pub attempts: i64,
    pub last: Option<String>,
    pub next: Option<String>,
}

/// How a delivery state is coloured.
fn tone(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Succeeded => "tone-good",
        DeliveryState::Failed => "tone-bad",
        DeliveryState::Cancelled => "tone-muted",
        DeliveryState::Pending => "tone-warn",
    }
}

#[derive(Template)]
#[template(path = "store/fragments/deliveries.html")]
pub struct DeliveryLog {
    pub rows: Vec<DeliveryRow>,
    pub state: Option<DeliveryState>,
    pub states: &'static [DeliveryState],
}

impl askama::filters::HtmlSafe for DeliveryLog {}

impl DeliveryLog {
    /// The log, filtered by `state` if it names one (anything else: all).
    pub async fn load(app: &Data, state: Option<String>) -> Result<DeliveryLog, StoreError> {
        let state = state.and_then(|s| DeliveryState::parse(&s).ok());
        let now = app.ctx.clock.now();
        let list = deliveries::list(
            &app.webhooks,
            deliveries::DeliveryFilter {
                state: state.map(|s| s.to_string()),
                limit: Some(DELIVERY_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        let rows = list
            .into_iter()
            .map(|d| DeliveryRow {
                created: clock_time(d.created_at.millis()),
                created_full: date_time(d.created_at.millis()),
                state_tone: tone(d.state),
                redeliverable: d.state != DeliveryState::Cancelled,
                last: match (d.last_status, &d.last_error) {
                    (Some(s), Some(e)) => Some(format!("{s} — {e}")),
                    (Some(s), None) => Some(s.to_string()),
                    (None, Some(e)) => Some(e.clone()),
                    (None, None) => None,
                },
                next: d.next_attempt_at.map(|t| {
                    if t <= now {
                        "now".to_owned()
                    } else {
                        format!("in {}", duration_ms(t.since(now).as_millis() as i64))
                    }
                }),
                id: d.id,
                event_type: d.event_type,
                order_id: d.order_id,
                endpoint_url: d.endpoint_url,
                state: d.state,
                attempts: d.attempts,
            })
            .collect();
        Ok(DeliveryLog {
            rows,
            state,
            states: DeliveryState::ALL,
        })
    }

    pub fn is_selected(&self, state: &DeliveryState) -> bool {
        self.state == Some(*state)
    }

    pub fn src(&self) -> String {
        match &self.state {
            Some(s) => format!("/fragments/deliveries?state={s}"),
            None => "/fragments/deliveries".into(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct StateQuery {
    state: Option<String>,
}

pub(super) async fn deliveries_fragment(
    _: Operator,
    app: Data,
    query: web::Query<StateQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&DeliveryLog::load(&app, query.into_inner().state).await?)
}

pub(super) async fn redeliver(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id: DeliveryId = id_from_path("delivery", &id)?;
    match deliveries::redeliver(&app.webhooks, &id).await {
        Ok(_) => Ok(see_other("/settings?notice=redelivered#deliveries")),
        Err(StoreError::Api(ApiError::Conflict(_))) => {
            Ok(see_other("/settings?notice=redeliver-busy#deliveries"))
        }
        Err(StoreError::EndpointDeleted) => {
            Ok(see_other("/settings?notice=redeliver-deleted#deliveries"))
        }
        Err(other) => Err(other.into()),
    }
}
