//! Every way an inventory request can fail, and the problem each becomes.
//!
//! The failures every API shares — a bad request, a missing key, something
//! that does not exist, a database error — are `platform::ApiError`,
//! wrapped here and mapped to problem+json in that one place. This enum
//! adds only what the inventory alone can say: the stock ran out, the store
//! withdrew the order, a webhook's signature did not verify, the chaos
//! controls said no.
//!
//! How a problem is *sent* — JSON, or XML for a client that asked for it —
//! is not decided here: the answer's writer (the `reply` module) reads the
//! problem, its headers and its verdict from this type.

use contract::inventory::Shortage;
use contract::order::LineItem;
use contract::signing::VerifyError;
use contract::{OrderId, Problem, Sku, Verdict, VerdictKind};
use platform::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A failure every API shares (see `platform::error`).
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("not enough stock for this order; nothing was reserved")]
    OutOfStock(Vec<Shortage>),
    /// SKUs this inventory does not stock, asked for on `/update_inventory`
    /// (a `422`, each line named by [`InventoryError::unknown_skus`]).
    #[error("not SKUs this inventory stocks: {}", .0.iter().map(Sku::as_str).collect::<Vec<_>>().join(", "))]
    UnknownSkus(Vec<Sku>),
    #[error("the store withdrew order {0}; it will not be applied")]
    Voided(OrderId),
    #[error("the webhook was refused: {0}")]
    Signature(VerifyError),
    /// Hybrid mode: the order a notice named could not be fetched from
    /// the store (a `502`: the store retries the notice).
    #[error("could not fetch the order from the store: {0}")]
    FetchFailed(String),
    #[error("chaos: the inventory is down (switched on in the chaos controls)")]
    ChaosDown,
    #[error("chaos: failing this request on purpose ({0} more to fail)")]
    ChaosFailure(u32),
}

impl From<sqlx::Error> for InventoryError {
    fn from(e: sqlx::Error) -> Self {
        InventoryError::Api(ApiError::Database(e))
    }
}

impl From<anyhow::Error> for InventoryError {
    fn from(e: anyhow::Error) -> Self {
        InventoryError::Api(ApiError::Unexpected(e))
    }
}

impl InventoryError {
    /// One invalid field (shorthand for the shared validation failure).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> InventoryError {
        ApiError::invalid(field, message).into()
    }

    pub fn not_found(what: &'static str, id: impl Into<String>) -> InventoryError {
        ApiError::not_found(what, id).into()
    }

    pub fn bad_request(detail: impl Into<String>) -> InventoryError {
        ApiError::BadRequest(detail.into()).into()
    }

    /// The validation failure for SKUs not stocked, each named by its line
    /// in the request (`items[2].sku`).
    pub fn unknown_skus(unknown: &[Sku], lines: &[LineItem]) -> InventoryError {
        let errors = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| unknown.contains(&line.sku))
            .map(|(i, line)| {
                contract::FieldError::new(
                    format!("items[{i}].sku"),
                    format!("{} is not a SKU this inventory stocks", line.sku),
                )
            })
            .collect();
        ApiError::Validation(errors).into()
    }

    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            InventoryError::Api(e) => e.problem(),
            InventoryError::UnknownSkus(skus) => InventoryError::unknown_skus(skus, &[])
                .problem()
                .with_detail(detail),
            InventoryError::OutOfStock(shortages) => {
                Problem::new(409, "/problems/out-of-stock", "Not enough stock")
                    .with_detail(detail)
                    .with_shortages(shortages.clone())
            }
            InventoryError::Voided(_) => {
                Problem::new(409, "/problems/order-voided", "Order withdrawn").with_detail(detail)
            }
            InventoryError::Signature(e) if e.is_timestamp_problem() => Problem::new(
                400,
                "/problems/webhook-timestamp",
                "Webhook timestamp out of tolerance",
            )
            .with_detail(detail),
            InventoryError::Signature(_) => Problem::new(
                401,
                "/problems/webhook-signature",
                "Webhook signature invalid",
            )
            .with_detail(detail),
            InventoryError::FetchFailed(_) => {
                Problem::new(502, "/problems/fetch-failed", "Could not fetch the order")
                    .with_detail(detail)
            }
            InventoryError::ChaosDown => {
                Problem::new(503, "/problems/chaos-down", "Service unavailable").with_detail(detail)
            }
            InventoryError::ChaosFailure(_) => {
                Problem::new(500, "/problems/chaos-failure", "Internal server error")
                    .with_detail(detail)
            }
        }
    }

    /// Headers the answer carries besides the problem body.
    pub fn headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            InventoryError::Api(e) => e.headers(),
            // "Down" says when to try again, as a real 503 should.
            InventoryError::ChaosDown => &[("retry-after", "5")],
            _ => &[],
        }
    }

    /// What the message log says about a request refused with this error:
    /// `refused: bad signature`, `refused: no valid API key`, …
    pub fn verdict(&self) -> Verdict {
        let detail = match self {
            InventoryError::Api(ApiError::Unauthorized) => "no valid API key".to_owned(),
            InventoryError::Signature(e) if e.is_timestamp_problem() => {
                "stale timestamp".to_owned()
            }
            InventoryError::Signature(VerifyError::MissingHeader(header)) => {
                format!("missing {header}")
            }
            InventoryError::Signature(_) => "bad signature".to_owned(),
            other => other.problem().title.to_lowercase(),
        };
        Verdict::with_detail(VerdictKind::Refused, detail)
    }

    /// Logs an internal failure with its cause (once, where it is answered).
    pub fn log(&self) {
        if let InventoryError::Api(e) = self {
            e.log();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inventory_s_own_failures_have_their_status_and_type() {
        let cases = [
            (
                InventoryError::OutOfStock(vec![]),
                409,
                "/problems/out-of-stock",
            ),
            (
                InventoryError::Voided(OrderId::new()),
                409,
                "/problems/order-voided",
            ),
            (
                InventoryError::Signature(VerifyError::NoMatchingSignature),
                401,
                "/problems/webhook-signature",
            ),
            (InventoryError::ChaosDown, 503, "/problems/chaos-down"),
            (
                InventoryError::ChaosFailure(0),
                500,
                "/problems/chaos-failure",
            ),
            // The shared ones are the shared mapping's.
            (
                InventoryError::invalid("x", "y"),
                422,
                "/problems/validation",
            ),
            (ApiError::Unauthorized.into(), 401, "/problems/unauthorized"),
        ];
        for (error, status, kind) in cases {
            let p = error.problem();
            assert_eq!(
                (p.status, p.problem_type.as_str()),
                (status, kind),
                "{error:?}"
            );
        }
        assert_eq!(
            InventoryError::Signature(VerifyError::MissingHeader("webhook-id"))
                .verdict()
                .to_string(),
            "refused: missing webhook-id"
        );
        assert_eq!(
            InventoryError::from(ApiError::Unauthorized)
                .verdict()
                .to_string(),
            "refused: no valid API key"
        );
        assert_eq!(
            InventoryError::ChaosFailure(1).verdict().to_string(),
            "refused: internal server error"
        );
        assert_eq!(InventoryError::ChaosDown.headers(), &[("retry-after", "5")]);
        assert_eq!(
            InventoryError::from(ApiError::Unauthorized).headers(),
            &[("www-authenticate", "Bearer")]
        );
    }
}
