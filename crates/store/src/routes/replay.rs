//! `POST /api/deliveries/{id}/replay`: a delivery's last attempt sent
//! again, unchanged, to any allowed URL, and the receiver's answer handed
//! back (the why is in `crate::integration::webhook::replay`). A thin
//! handler, as in [`super::webhooks`].

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use contract::{DeliveryId, Problem};
use platform::guard::Operator;
use platform::http::Json;

use super::id_from_path;
use crate::error::StoreError;
use crate::integration::webhook::replay as replaying;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Where to replay a delivery.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplayRequest {
    /// Any URL an endpoint could have: `http` or `https`, no credentials
    /// in it, on a host the store allows (`WEBHOOK_ALLOWED_HOSTS`).
    #[schema(pattern = "^https?://[^/?#@\\s]+(/\\S*)?$", max_length = 2048)]
    pub url: String,
}

/// What the receiver of a replay answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayAnswer {
    pub url: String,
    /// The status it answered, if it answered.
    pub status: Option<u16>,
    /// Its answer's body (at most 64 KiB), if it answered.
    pub body: Option<String>,
    /// Why there was no answer.
    pub error: Option<String>,
    pub latency_ms: i64,
}

impl ReplayAnswer {
    pub fn of(sent: &platform::outbound::Recorded) -> ReplayAnswer {
        ReplayAnswer {
            url: sent.url.clone(),
            status: sent.status(),
            body: sent.body().map(|b| String::from_utf8_lossy(b).into_owned()),
            error: sent.error().map(str::to_owned),
            latency_ms: sent.latency_ms(),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/deliveries/{id}/replay",
    tag = "deliveries",
    summary = "Send a delivery's last attempt again, unchanged, to any allowed URL",
    description = "The same headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and \
                   raw body as the delivery's last attempt, not signed again, POSTed to `url`; the \
                   answer comes back here and changes nothing. To the inventory's receiver it is a \
                   duplicate, or — five minutes after signing — refused for its timestamp.",
    params(("id" = DeliveryId, Path, description = "The delivery's id")),
    request_body(content = ReplayRequest, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "Sent: what the receiver answered (or why it did not)", body = ReplayAnswer),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery has not been attempted yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that is not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn replay(
    _: Operator,
    app: Data,
    id: web::Path<String>,
    body: Json<ReplayRequest>,
) -> Result<HttpResponse, StoreError> {
    let sent = replaying::replay(
        &app.webhooks,
        &id_from_path::<DeliveryId>("delivery", &id)?,
        &body.url,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ReplayAnswer::of(&sent)))
}
