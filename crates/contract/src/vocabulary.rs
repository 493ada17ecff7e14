//! The words both services use for states, kinds and channels — each one
//! an enum, written once, with its text form derived (by `strum`) rather
//! than spelled out in `match` arms beside every use.
//!
//! Each of these is stored as TEXT (with a `CHECK` constraint in the schema
//! listing the same words), sent as a lowercase JSON string, and shown in
//! the UI. A string compared against a literal in three files is a typo
//! waiting to happen; an enum is a compile error instead. The road not
//! taken: integer codes in the database. They would save a few bytes per
//! row and cost every reader of the tables a lookup.
//!
//! Every enum here implements [`Word`]: `as_str()` for the one text form,
//! `Word::parse` (trimmed, case-insensitive) with an error message that
//! lists what is allowed, and `ALL`.

use serde::{Deserialize, Serialize};
use strum::VariantArray;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::ParseError;

/// An enum with one text form per variant.
pub trait Word:
    Sized + Copy + 'static + std::str::FromStr + VariantArray + Into<&'static str>
{
    /// Every variant, in declaration order.
    const ALL: &'static [Self] = Self::VARIANTS;

    /// The variant's text form, as stored, sent and shown.
    fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a variant from its text form (surrounding space and case
    /// ignored), or says which words are allowed.
    fn parse(raw: &str) -> Result<Self, ParseError> {
        raw.trim().parse().map_err(|_| {
            let allowed: Vec<&str> = Self::ALL.iter().map(|w| w.as_str()).collect();
            ParseError(format!("expected one of: {}", allowed.join(", ")))
        })
    }
}

/// The schema of a [`Word`] type, for the OpenAPI documents: a string, one
/// of its words — the very list [`Word::parse`] accepts. (Public because
/// [`words!`](crate::words) expands in other crates too.)
pub fn words_schema<W: Word>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(W::ALL.iter().map(|w| w.as_str())))
        .into()
}

/// Declares enums of plain words with everything [`Word`] needs: the text
/// form (`snake_case` unless a variant says otherwise with
/// `#[strum(serialize = "…")]` plus a matching `#[serde(rename = "…")]`),
/// `Display`, serde, and `TryFrom<String>` (what `#[sqlx(try_from =
/// "String")]` uses to read a column).
///
/// Exported, so that a service's own words (the store's
/// `vocabulary::Trigger`, say) are declared the same way; the crate that
/// uses it depends on `serde` and `strum` itself.
#[macro_export]
macro_rules! words {
    ($($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? })+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
            ::strum::EnumString, ::strum::IntoStaticStr, ::strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case", ascii_case_insensitive)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::vocabulary::Word for $name {}

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = <Self as ::strum::VariantArray>::VARIANTS;

            /// The text form (see `Word::as_str`).
            pub fn as_str(self) -> &'static str {
                <Self as $crate::vocabulary::Word>::as_str(self)
            }

            /// See `Word::parse`.
            pub fn parse(raw: &str) -> Result<Self, $crate::ParseError> {
                <Self as $crate::vocabulary::Word>::parse(raw)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ParseError;
            fn try_from(raw: String) -> Result<Self, $crate::ParseError> {
                <Self as $crate::vocabulary::Word>::parse(&raw)
            }
        }

        /// Its schema: a string, one of its words.
        impl $crate::__utoipa::PartialSchema for $name {
            fn schema() -> $crate::__utoipa::openapi::RefOr<$crate::__utoipa::openapi::Schema> {
                $crate::vocabulary::words_schema::<Self>()
            }
        }

        impl $crate::__utoipa::ToSchema for $name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    )+};
}

words! {
    /// How new orders reach the inventory. The store owns the current mode;
    /// every order records the mode it was placed under and finishes through
    /// that channel even if the mode is switched afterwards.
    pub enum IntegrationMode {
        /// Push: the store POSTs a signed `order.created` event.
        Webhook,
        /// Request/response: the store calls `/update_inventory` while the
        /// customer waits.
        Api,
        /// Pull: the inventory reads the store's order feed on its timer.
        Poll,
        /// The combination: the store pushes a thin signed `order.notice`
        /// (no customer, no items), the inventory pulls the order by API,
        /// and a slow reconciliation read of the feed lands any order
        /// whose notice was lost.
        Hybrid,
    }

    /// Where an order stands, as the store reports it.
    ///
    /// `pending` until the channel of its mode has an answer; `confirmed`
    /// when the inventory applied it; `rejected` when the store refused it
    /// (api mode: stock short or the inventory unreachable);
    /// `backordered` when a webhook or polled order found the stock short —
    /// the oversell that an event and a poll allow and api mode (whose
    /// sender waits for the answer) prevents.
    pub enum OrderStatus {
        Pending,
        Confirmed,
        Rejected,
        Backordered,
    }

    /// What applying an order did, whichever channel carried it. Recorded
    /// once per order id in the inventory; every later delivery of the same
    /// order (retry, replay, another channel) gets this first outcome back.
    pub enum ApplyOutcome {
        /// Stock was decremented for every line.
        Applied,
        /// Sent as an event or polled, stock was short: nothing was applied
        /// and the order waits for stock (the oversell webhook and poll
        /// mode allow).
        Backordered,
        /// Asked synchronously (api mode), stock was short: nothing was
        /// applied and the store refuses the order.
        Rejected,
        /// The store withdrew the order (it could not get an answer in
        /// time); any stock it had taken was put back, and a late copy of
        /// the request will not take it again.
        Voided,
    }

    /// The two data formats of the contract.
    pub enum Format {
        Json,
        Xml,
    }

    /// Which integration pattern a logged exchange belongs to. Both
    /// services' message logs use these words, so the flow page can set
    /// the two sides of one exchange next to each other.
    pub enum Channel {
        /// Push: a signed `order.created` (or `ping`) POSTed by the store.
        Webhook,
        /// Request/response: the store calling `/update_inventory`.
        Api,
        /// Compensation: the store withdrawing an api order it had to reject.
        Void,
        /// Pull: the inventory reading the order feed.
        Feed,
        /// Pull: the inventory reporting what it did with a polled order.
        Ack,
        /// The inventory registering its webhook receiver with the store.
        Subscribe,
        /// Hybrid, push: the thin signed `order.notice` (no order in it).
        Notify,
        /// Hybrid, pull: the inventory fetching the order a notice named
        /// (`GET /api/orders/{id}`).
        Fetch,
        /// Hybrid, pull: the slow reconciliation — a read of the feed for
        /// hybrid orders still pending, and the acknowledgement of each.
        Reconcile,
    }

    /// Who opened the connection — the heart of push versus pull.
    pub enum Party {
        Store,
        Inventory,
    }

    /// Where one webhook message stands for one endpoint.
    pub enum DeliveryState {
        /// Waiting for its next attempt (or for its endpoint to be enabled).
        Pending,
        /// An attempt was answered 2xx.
        Succeeded,
        /// Every scheduled attempt failed; a person may redeliver it.
        Failed,
        /// Its endpoint was deleted before it could be delivered.
        Cancelled,
    }

    /// What a service made of a message in its log, in one word; the
    /// words for a person go beside it (see [`Verdict`]).
    pub enum VerdictKind {
        /// The order was applied (stock taken).
        Applied,
        /// The order was taken but the stock was short.
        Backordered,
        /// Stock was short and the order was refused (api mode).
        Rejected,
        /// The order was withdrawn by the store.
        Voided,
        /// Seen before: nothing was done again.
        Duplicate,
        /// Refused before anything was done: bad key, bad signature, bad body.
        Refused,
        /// A signed message checked out and needed nothing more (a ping).
        Verified,
        /// A poll that found no orders at all.
        Empty,
        /// A poll that found orders, none of them new work for this service.
        NothingNew,
        /// The store took note of what the inventory did.
        Acknowledged,
        /// A webhook subscription was made or its secret renewed.
        Subscribed,
        /// The request did not get a usable answer.
        Failed,
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
        }
    }
}

impl Party {
    /// The other service.
    pub fn peer(self) -> Party {
        match self {
            Party::Store => Party::Inventory,
            Party::Inventory => Party::Store,
        }
    }
}

words! {
    /// The kinds of webhook event the store sends; endpoints subscribe to
    /// these (or to all of them). Their text forms have a dot, as Standard
    /// Webhooks names event types, so each variant spells its own.
    pub enum EventType {
        /// An order was placed (in webhook mode).
        #[serde(rename = "order.created")]
        #[strum(serialize = "order.created")]
        OrderCreated,
        /// An order was placed (in hybrid mode): a thin notice that names
        /// it, for the receiver to fetch.
        #[serde(rename = "order.notice")]
        #[strum(serialize = "order.notice")]
        OrderNotice,
        /// A signed hello, sent when an endpoint is registered or on demand.
        #[serde(rename = "ping")]
        #[strum(serialize = "ping")]
        Ping,
    }
}

/// A verdict in a message log: the kind (stored in its own column, so it
/// can be counted and coloured without parsing text) and, optionally, the
/// words a person reads (`refused` + "bad signature").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Verdict {
    pub kind: VerdictKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Verdict {
    pub fn new(kind: VerdictKind) -> Verdict {
        Verdict { kind, detail: None }
    }

    pub fn with_detail(kind: VerdictKind, detail: impl Into<String>) -> Verdict {
        Verdict {
            kind,
            detail: Some(detail.into()),
        }
    }
}

impl From<ApplyOutcome> for VerdictKind {
    fn from(outcome: ApplyOutcome) -> VerdictKind {
        match outcome {
            ApplyOutcome::Applied => VerdictKind::Applied,
            ApplyOutcome::Backordered => VerdictKind::Backordered,
            ApplyOutcome::Rejected => VerdictKind::Rejected,
            ApplyOutcome::Voided => VerdictKind::Voided,
        }
    }
}

impl std::fmt::Display for Verdict {
    /// `kind` or `kind: detail` (`nothing_new` is written with a space).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.as_str().replace('_', " ");
        match &self.detail {
            Some(detail) => write!(f, "{kind}: {detail}"),
            None => f.write_str(&kind),
        }
    }
}

words! {
    /// What a live page hears of: the name (SSE `event:`) of each thing that
    /// happened, as `GET /events` sends it and the pages' live regions
    /// listen for it (`data-on` in the templates).
    pub enum LiveEventKind {
        /// An order was placed (store).
        #[serde(rename = "order.created")]
        #[strum(serialize = "order.created")]
        OrderCreated,
        /// An order left `pending` (store).
        #[serde(rename = "order.updated")]
        #[strum(serialize = "order.updated")]
        OrderUpdated,
        /// A message crossed, as the store's timeline records it (store).
        #[serde(rename = "exchange")]
        #[strum(serialize = "exchange")]
        Exchange,
        /// A webhook delivery moved on: an attempt, a redelivery (store).
        #[serde(rename = "delivery.updated")]
        #[strum(serialize = "delivery.updated")]
        DeliveryUpdated,
        /// A webhook endpoint was added, changed, rotated or removed (store).
        #[serde(rename = "endpoint.changed")]
        #[strum(serialize = "endpoint.changed")]
        EndpointChanged,
        /// The integration mode was switched (store).
        #[serde(rename = "mode.changed")]
        #[strum(serialize = "mode.changed")]
        ModeChanged,
        /// The compare page's burst placed more orders (store).
        #[serde(rename = "burst.progress")]
        #[strum(serialize = "burst.progress")]
        BurstProgress,
        /// A message crossed, as the inventory's log records it (inventory).
        #[serde(rename = "message")]
        #[strum(serialize = "message")]
        Message,
        /// Stock moved: an order applied or voided, a restock (inventory).
        #[serde(rename = "stock.changed")]
        #[strum(serialize = "stock.changed")]
        StockChanged,
        /// A chaos switch was flipped (inventory).
        #[serde(rename = "chaos.changed")]
        #[strum(serialize = "chaos.changed")]
        ChaosChanged,
        /// The poller was paused, resumed or given another interval (inventory).
        #[serde(rename = "poller.changed")]
        #[strum(serialize = "poller.changed")]
        PollerChanged,
        /// A poll of the store's feed finished (inventory).
        #[serde(rename = "poll.completed")]
        #[strum(serialize = "poll.completed")]
        PollCompleted,
        /// The poller backs off from a store it cannot reach (inventory).
        #[serde(rename = "poller.backoff")]
        #[strum(serialize = "poller.backoff")]
        PollerBackoff,
        /// The inventory subscribed (again) to the store's webhooks (inventory).
        #[serde(rename = "subscription.changed")]
        #[strum(serialize = "subscription.changed")]
        SubscriptionChanged,
        /// A request was kept by a capture inbox (inventory).
        #[serde(rename = "inbox.captured")]
        #[strum(serialize = "inbox.captured")]
        InboxCaptured,
        /// The page fell behind and missed events: re-fetch what it shows
        /// (both services).
        #[serde(rename = "resync")]
        #[strum(serialize = "resync")]
        Resync,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_through_text() {
        fn round_trip<W: Word + PartialEq + std::fmt::Debug>() {
            for w in W::ALL {
                assert_eq!(W::parse(w.as_str()).unwrap(), *w);
                assert_eq!(W::parse(&w.as_str().to_uppercase()).unwrap(), *w);
            }
        }
        round_trip::<IntegrationMode>();
        round_trip::<OrderStatus>();
        round_trip::<ApplyOutcome>();
        round_trip::<Format>();
        round_trip::<Channel>();
        round_trip::<Party>();
        round_trip::<DeliveryState>();
        round_trip::<VerdictKind>();
        round_trip::<EventType>();
    }

    #[test]
    fn text_forms_are_the_documented_ones() {
        assert_eq!(IntegrationMode::Webhook.as_str(), "webhook");
        assert_eq!(VerdictKind::NothingNew.as_str(), "nothing_new");
        assert_eq!(EventType::OrderCreated.as_str(), "order.created");
        assert_eq!(
            serde_json::to_string(&EventType::OrderCreated).unwrap(),
            "\"order.created\""
        );
        assert_eq!(
            serde_json::to_string(&VerdictKind::NothingNew).unwrap(),
            "\"nothing_new\""
        );
        assert_eq!(
            IntegrationMode::parse(" WEBHOOK ").unwrap(),
            IntegrationMode::Webhook
        );
        assert_eq!(
            IntegrationMode::parse("carrier-pigeon").unwrap_err().0,
            "expected one of: webhook, api, poll, hybrid"
        );
    }

    #[test]
    fn verdicts_read_as_words() {
        assert_eq!(Verdict::new(VerdictKind::Applied).to_string(), "applied");
        assert_eq!(
            Verdict::with_detail(VerdictKind::Refused, "bad signature").to_string(),
            "refused: bad signature"
        );
        assert_eq!(
            Verdict::new(VerdictKind::NothingNew).to_string(),
            "nothing new"
        );
    }
}
