//! What the two web UIs share, one idea to a module:
//!
//! 1. [`chrome`] — what is drawn around every page: a [`Layout`] every
//!    page template receives, and the [`ErrorPage`];
//! 2. [`response`] — the headers a page, a fragment or a static file goes
//!    out with;
//! 3. [`format`](mod@format) — the small formatting functions the templates need
//!    (money, times, latencies, pretty-printed bodies);
//! 4. [`errors`] — a service's failure as a page ([`PageProblem`],
//!    [`PageError`]);
//! 5. [`by_hand`] — a recorded message laid out to check by hand: its
//!    signature recomputed step by step, and the message as `curl`.
//!
//! Everything is also re-exported here, under the names both services
//! import (`platform::ui::Layout`, `platform::ui::money`, …).
//!
//! The UIs are server-rendered: each service renders its own pages with
//! askama (`store::ui`, `inventory::ui`; the templates are in `templates/`)
//! and one hand-written script, `templates/static/app.js`, keeps marked
//! regions of a page up to date from the service's `GET /events` stream by
//! re-fetching their server-rendered fragments. Nothing is loaded from
//! another site and there is no front-end build: both files are compiled
//! into the binaries with `include_str!`.
//!
//! Two services serve one UI, so a page often talks to both origins: the
//! store's flow page listens to the inventory's events and fetches its
//! fragments, the store's settings page posts the poller form to the
//! inventory. That is why fragments carry `Access-Control-Allow-Origin: *`
//! (they are read-only and show nothing the events do not) and why the
//! Content-Security-Policy of a page names exactly one other origin: its
//! peer's.

pub mod by_hand;
pub mod chrome;
pub mod errors;
pub mod format;
pub mod response;

pub use by_hand::{SignedMessage, curl, header_pairs};
pub use chrome::{ErrorPage, Layout, NavItem, Notice, Service};
pub use errors::{PageError, PageProblem, not_found_page};
pub use format::{
    HeaderRow, clock_time, count, date_time, duration_ms, header_rows, keep_units_together, money,
    pretty_body,
};
pub use response::{
    APP_CSS, APP_JS, asset_version, fragment_response, is_machine_path, page_response, see_other,
    static_asset,
};
