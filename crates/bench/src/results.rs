//! What the bench measured, as plain data: each run, each process's
//! footprint, and the conditions — what [`super::report`] renders and
//! [`super::targets`] judges, so both are tested without running anything.

use contract::IntegrationMode;
use platform::Backend;

use super::load::Percentiles;

/// What a run drove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subject {
    /// Two floor hops.
    #[default]
    Floor,
    /// The store and the inventory in one mode.
    Mode(IntegrationMode),
    /// The store and the inventory in one mode, one order at a time with
    /// pauses between them, as a person at the demo places them.
    OneAtATime(IntegrationMode),
    /// Poll mode one order at a time, the poller long-polling
    /// (`POLL_WAIT`): the store holds each empty read until an order
    /// commits, so the interval no longer sets the end to end.
    LongPollOneAtATime,
    /// The store alone, delivering webhooks to a trivial receiver.
    Sender,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::Mode(mode) => mode.as_str(),
            Subject::OneAtATime(IntegrationMode::Api) => "api, one at a time",
            Subject::OneAtATime(IntegrationMode::Webhook) => "webhook, one at a time",
            Subject::OneAtATime(IntegrationMode::Poll) => "poll, one at a time",
            Subject::OneAtATime(IntegrationMode::Hybrid) => "hybrid, one at a time",
            Subject::LongPollOneAtATime => "poll, long polling, one at a time",
            Subject::Sender => "sender only",
        }
    }
}

/// One measured run: `placed` orders (or floor requests) at `concurrency`.
#[derive(Debug, Clone)]
pub struct Run {
    pub backend: Backend,
    /// Orders already in the store's database when the services started.
    pub history: u64,
    pub subject: Subject,
    pub concurrency: usize,
    pub placed: usize,
    pub failed: usize,
    /// Answered `2xx` per second, as the client saw it.
    pub placed_per_s: f64,
    /// Reaching their final status per second, from the first order
    /// created to the last resolved (sender only: deliveries succeeded per
    /// second, to the last delivered; the floor: as placed).
    pub resolved_per_s: f64,
    /// `POST` to answer, as the client saw it (ms).
    pub placement: Percentiles,
    /// Order created → final status (sender only: → delivered), from the
    /// store's own timestamps (ms).
    pub end_to_end: Percentiles,
    /// Sender only: the last order created → the last delivery (ms).
    pub lag_ms: Option<f64>,
    /// Poll, one at a time: the feed read that carried each order → its
    /// final status (ms) — what pull adds once the poll has come.
    pub after_poll: Option<Percentiles>,
    /// CPU per order in ms: the store (floor: hop A), the inventory (hop B).
    pub cpu_ms: [Option<f64>; 2],
    /// HTTP exchanges the store logged per order.
    pub requests_per_order: Option<f64>,
    /// Feed reads that found no poll-mode order.
    pub empty_polls: Option<i64>,
    /// "3998 confirmed, 2 backordered", and any failed requests.
    pub outcome: String,
}

impl Default for Run {
    fn default() -> Run {
        Run {
            backend: Backend::Sqlite,
            history: 0,
            subject: Subject::Floor,
            concurrency: 1,
            placed: 0,
            failed: 0,
            placed_per_s: 0.0,
            resolved_per_s: 0.0,
            placement: Percentiles::default(),
            end_to_end: Percentiles::default(),
            lag_ms: None,
            after_poll: None,
            cpu_ms: [None, None],
            requests_per_order: None,
            empty_polls: None,
            outcome: String::new(),
        }
    }
}

/// One service process at the end of its runs.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub backend: Backend,
    pub history: u64,
    /// `store`, `inventory`, `store (sender only)`, `floor hop A`, `floor hop B`.
    pub service: String,
    /// Orders (floor: requests) it handled, warm-ups included.
    pub handled: usize,
    /// `VmHWM`: the most memory it ever had resident.
    pub peak_rss_kib: Option<u64>,
    /// CPU while nothing happened, in % of one core.
    pub idle_cpu_percent: Option<f64>,
}

/// The conditions of the measurement.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The command that regenerates the whole file.
    pub regenerate: String,
    /// The command that wrote this copy (the same, or a filtered rerun).
    pub command: String,
    pub date: String,
    pub machine: String,
    pub load_before: String,
    pub load_after: String,
    pub build: String,
    pub orders: usize,
    pub poll_interval_ms: u128,
    pub idle_seconds: f64,
    pub postgres: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub meta: Meta,
    pub runs: Vec<Run>,
    pub footprints: Vec<Footprint>,
}

impl Report {
    /// The floor's run on `backend` at `concurrency`.
    pub fn floor(&self, backend: Backend, concurrency: usize) -> Option<&Run> {
        self.runs.iter().find(|r| {
            r.subject == Subject::Floor && r.backend == backend && r.concurrency == concurrency
        })
    }

    pub fn find(&self, backend: Backend, history: u64, subject: Subject, c: usize) -> Option<&Run> {
        self.runs.iter().find(|r| {
            r.backend == backend
                && r.history == history
                && r.subject == subject
                && r.concurrency == c
        })
    }

    /// The backends measured, in the order they ran.
    pub fn backends(&self) -> Vec<Backend> {
        let mut backends: Vec<Backend> = Vec::new();
        for r in &self.runs {
            if !backends.contains(&r.backend) {
                backends.push(r.backend);
            }
        }
        backends
    }
}
