//! Instruments: what measures and shows the integration patterns — and is
//! not part of them.
//!
//! The patterns (`crate::integration`) would work the same without any of
//! this. These modules exist because the store is a teaching system: they
//! count what each mode cost, and run the experiment that fills the
//! charts — from the message log the patterns write (`crate::timeline`,
//! which sits beneath them for that reason). A real shop would keep the
//! message log as an audit trail at most, and the rest not at all.
//!
//! * [`comparison`] — the compare page's figures per mode: latency,
//!   requests per order, empty polls, failures and retries, read from the
//!   orders and the message log.
//! * [`burst`] — the compare page's experiment: the same burst of orders
//!   placed in each mode in turn, through the real checkout.

pub mod burst;
pub mod comparison;
