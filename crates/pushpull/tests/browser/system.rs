//! The store and the inventory, wired to each other as `cargo run` wires
//! them — each on its own port with its own fresh SQLite database, the
//! inventory subscribed to the store's webhooks and polling its feed.
//!
//! By default the store runs on the real clock with webhook retries quick
//! enough to watch. A test that plays out minutes — an outage, a retry
//! schedule running out — gives the store a [`ManualClock`] instead and
//! moves it ([`System::let_time_pass`]): the dispatcher sleeps on that
//! clock, so each step releases exactly the attempts that came due, and
//! the test never waits for real time to pass.

use std::time::Duration;

use inventory::testing::TestInventory;
use platform::ManualClock;
use platform::testing::{TestBackend, TestDatabase, eventually, free_port};
use store::testing::TestStore;

pub struct System {
    pub store: TestStore,
    pub inventory: TestInventory,
    /// The store's clock, when the test moves it.
    pub store_clock: Option<ManualClock>,
}

/// How to start the pair.
pub struct Setup {
    pub mode: &'static str,
    /// The store's webhook retry schedule.
    pub retry_schedule: &'static str,
    /// Give the store a clock that moves only when the test says so.
    pub manual_clock: bool,
}

impl Setup {
    pub fn new(mode: &'static str) -> Setup {
        Setup {
            mode,
            // Quick retries: a failed webhook is retried soon. (The
            // inventory's "down" says Retry-After: 5, which makes each of
            // those waits five seconds: it may lengthen a wait, never
            // shorten one.)
            retry_schedule: "200ms,500ms,1s,1s,2s,2s,5s,5s,5s,5s",
            manual_clock: false,
        }
    }
}

impl System {
    /// A page of the store, as a full URL.
    pub fn store(&self, path: &str) -> String {
        self.store.url(path)
    }

    /// A page of the inventory, as a full URL.
    pub fn inventory(&self, path: &str) -> String {
        self.inventory.url(path)
    }

    /// Moves the store's manual clock on, a second at a time, letting the
    /// dispatcher finish whatever came due before the next second passes.
    pub async fn let_time_pass(&self, seconds: u64) {
        let clock = self
            .store_clock
            .as_ref()
            .expect("a store started with a manual clock");
        for _ in 0..seconds {
            clock.advance(Duration::from_secs(1));
            self.dispatcher_idle().await;
        }
    }

    /// Until no webhook delivery is due or in flight at the store's time.
    pub async fn dispatcher_idle(&self) {
        let now = self.store.state.ctx.clock.now();
        eventually(
            Duration::from_secs(30),
            "the dispatcher to catch up",
            || async {
                let busy: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' \
                     AND (lease_owner IS NOT NULL OR next_attempt_at <= $1)",
                )
                .bind(now.millis())
                .fetch_one(self.store.state.ctx.db.pool())
                .await
                .ok()?;
                (busy == 0).then_some(())
            },
        )
        .await;
    }

    /// An order's status, straight from the store's API.
    pub async fn order_status(&self, id: &str) -> String {
        self.store.order_status(id).await
    }
}

/// Starts both services in `mode`, and returns once the inventory has
/// subscribed to the store's webhooks.
pub async fn spawn_system(mode: &'static str) -> System {
    spawn_system_with(Setup::new(mode)).await
}

pub async fn spawn_system_with(setup: Setup) -> System {
    let store_port = free_port();
    let inventory_port = free_port();
    let store_url = format!("http://127.0.0.1:{store_port}");
    let inventory_url = format!("http://127.0.0.1:{inventory_port}");
    let store_clock = setup.manual_clock.then(ManualClock::new);

    let (s, i) = (store_url.clone(), inventory_url.clone());
    let clock = store_clock.as_ref().map(ManualClock::shared);
    let schedule = setup.retry_schedule;
    let store = TestStore::spawn(TestDatabase::create(TestBackend::Sqlite).await, move |c| {
        c.port = store_port;
        c.public_url = s;
        c.inventory_url = i.clone();
        c.inventory_public_url = i;
        c.webhook.retry_schedule = schedule.parse().expect("a schedule");
        c.webhook.jitter = 0.0;
        c.webhook.sweep_interval = Duration::from_millis(500);
        if let Some(clock) = clock {
            c.clock = clock;
        }
    })
    .await;
    store.set_mode(setup.mode).await;

    let (s, i) = (store_url.clone(), inventory_url.clone());
    let inventory =
        TestInventory::spawn(TestDatabase::create(TestBackend::Sqlite).await, move |c| {
            c.port = inventory_port;
            c.url = i.clone();
            c.public_url = i;
            c.store_url = s.clone();
            c.store_public_url = s;
            c.subscribe = true;
            c.poll.paused = false;
            c.poll.interval = Duration::from_millis(400);
        })
        .await;

    eventually(
        Duration::from_secs(30),
        "the inventory to subscribe to the store's webhooks",
        || async {
            inventory::integration::subscription::current(&inventory.state.ctx.db)
                .await
                .ok()
                .flatten()
                .map(|_| ())
        },
    )
    .await;
    let system = System {
        store,
        inventory,
        store_clock,
    };
    if system.store_clock.is_some() {
        // The welcome ping waits a second of the store's clock.
        system.let_time_pass(2).await;
    }
    system
}
