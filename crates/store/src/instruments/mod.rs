//! Instruments: what measures and shows the integration patterns — and is
//! not part of them.
//!
//! The patterns (`crate::integration`) would work the same without any of
//! this. These modules exist because the store is a teaching system: they
//! record what crossed the wire, count what each mode cost, and run the
//! experiment that fills the charts. A real shop would keep the message log
//! as an audit trail at most, and the rest not at all.
//!
//! * [`timeline`] — the message log: every HTTP exchange with the
//!   inventory, in both directions, linked to the orders it carried (the
//!   patterns *write* to it; it never decides anything).
//! * [`comparison`] — the compare page's figures per mode: latency,
//!   requests per order, empty polls, failures and retries, read from the
//!   orders and the message log.
//! * [`burst`] — the compare page's experiment: the same burst of orders
//!   placed in each mode in turn, through the real checkout.

pub mod burst;
pub mod comparison;
pub mod timeline;
