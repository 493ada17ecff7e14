//! The store's own words, beside the ones both services share
//! (`contract::vocabulary`): how a webhook attempt came about, what an
//! endpoint's answers may decide, and where a void the store owes the
//! inventory stands. Declared with the same
//! `contract::words!` as the shared ones — an enum with one text form each
//! (derived by `strum`) — and stored as TEXT under a `CHECK` constraint that
//! lists the same words (`migrations/store/`; the test below keeps every
//! such constraint in step with its enum).

contract::words! {
    /// What set a webhook attempt off.
    pub enum Trigger {
        /// The outbox's own schedule: the first attempt, or a retry.
        Scheduled,
        /// A person pressed "redeliver" (or "retry failed deliveries").
        Manual,
    }

    /// What an endpoint's answers may do (issues #10, #17). Only the
    /// inventory's own receiver — the endpoint at
    /// `{INVENTORY_URL}/webhooks/store`, whoever registered it — resolves
    /// webhook orders with what its `2xx` says; any other endpoint, however
    /// it answers, only observes: its deliveries are signed, retried and
    /// logged, and decide nothing. Worked out from the URL
    /// (`integration::webhook::resolver::ResolverUrl`).
    pub enum EndpointRole {
        /// Its answer (`contract::inventory::WebhookAck`) resolves the order.
        Resolver,
        /// Receives the events; its answers change no order.
        Observer,
    }

    /// Where a void the store owes the inventory stands.
    pub enum VoidState {
        /// Not confirmed by the inventory yet: the compensation worker keeps
        /// trying.
        Pending,
        /// The inventory confirmed it.
        Done,
    }
}

/// Until shown otherwise, an endpoint observes: the safe reading.
impl Default for EndpointRole {
    fn default() -> EndpointRole {
        EndpointRole::Observer
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use contract::{
        Channel, DeliveryState, EventType, Format, IntegrationMode, OrderStatus, Party, Word,
    };

    use super::*;

    fn checked_words() -> BTreeMap<String, Vec<String>> {
        platform::testing::checked_words(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/store"
        )))
    }

    fn words<W: Word>() -> Vec<String> {
        W::ALL.iter().map(|w| w.as_str().to_owned()).collect()
    }

    #[test]
    fn every_enumerated_column_checks_exactly_its_enums_words() {
        let expected: BTreeMap<String, Vec<String>> = [
            ("orders.status", words::<OrderStatus>()),
            ("orders.mode", words::<IntegrationMode>()),
            ("exchanges.channel", words::<Channel>()),
            ("exchanges.initiator", words::<Party>()),
            ("exchanges.trigger_kind", words::<Trigger>()),
            ("mode_changes.mode", words::<IntegrationMode>()),
            ("pending_voids.state", words::<VoidState>()),
            ("webhook_endpoints.format", words::<Format>()),
            ("webhook_endpoints.role", words::<EndpointRole>()),
            ("webhook_messages.event_type", words::<EventType>()),
            ("webhook_deliveries.event_type", words::<EventType>()),
            ("webhook_deliveries.state", words::<DeliveryState>()),
            ("webhook_deliveries.next_trigger", words::<Trigger>()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(checked_words(), expected);
    }

    #[test]
    fn the_stored_words_are_the_documented_ones() {
        assert_eq!(Trigger::Manual.as_str(), "manual");
        assert_eq!(
            Trigger::try_from("scheduled".to_owned()),
            Ok(Trigger::Scheduled)
        );
        assert_eq!(VoidState::Done.to_string(), "done");
        assert_eq!(EndpointRole::Resolver.as_str(), "resolver");
        assert_eq!(
            EndpointRole::try_from("observer".to_owned()),
            Ok(EndpointRole::Observer)
        );
        assert!(VoidState::try_from("maybe".to_owned()).is_err());
    }
}
