//! `spawn_system`: both services, wired to each other.

use inventory::testing::TestInventory;
use platform::ManualClock;
use platform::testing::{TestBackend, TestDatabase, free_port};
use store::testing::TestStore;

pub use platform::testing::eventually;
pub use store::testing::order_body;

pub struct System {
    pub store: TestStore,
    pub inventory: TestInventory,
    /// The store's clock: tests move it to trigger retries and voids.
    pub store_clock: ManualClock,
}

pub struct Options {
    pub mode: &'static str,
    pub store: fn(&mut store::StoreConfig),
    pub inventory: fn(&mut inventory::InventoryConfig),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: "api",
            store: |_| {},
            inventory: |_| {},
        }
    }
}

/// A system whose inventory may start later, on the port the store expects.
pub struct PartialSystem {
    pub store: TestStore,
    pub store_clock: ManualClock,
    pub inventory_port: u16,
    inventory_db: Option<TestDatabase>,
    configure_inventory: fn(&mut inventory::InventoryConfig),
}

impl PartialSystem {
    pub async fn start_inventory(&mut self) -> TestInventory {
        let db = self.inventory_db.take().expect("inventory started once");
        spawn_inventory(db, self.inventory_port, &self.store.address, self.configure_inventory).await
    }
}

async fn spawn_inventory(
    db: TestDatabase,
    port: u16,
    store_url: &str,
    configure: fn(&mut inventory::InventoryConfig),
) -> TestInventory {
    let store_url = store_url.to_owned();
    TestInventory::spawn(db, move |c| {
        c.port = port;
        c.url = format!("http://127.0.0.1:{port}");
        c.public_url = c.url.clone();
        c.store_url = store_url.clone();
        c.store_public_url = store_url;
        configure(c);
    })
    .await
}

pub async fn spawn_partial(backend: TestBackend, options: Options) -> PartialSystem {
    let store_db = TestDatabase::create(backend).await;
    let inventory_db = TestDatabase::create(backend).await;
    let inventory_port = free_port();
    let clock = ManualClock::new();
    let shared_clock = clock.shared();
    let configure_store = options.store;
    let store = TestStore::spawn(store_db, move |c| {
        c.inventory_url = format!("http://127.0.0.1:{inventory_port}");
        c.inventory_public_url = c.inventory_url.clone();
        c.clock = shared_clock;
        configure_store(c);
    })
    .await;
    store.set_mode(options.mode).await;
    PartialSystem {
        store,
        store_clock: clock,
        inventory_port,
        inventory_db: Some(inventory_db),
        configure_inventory: options.inventory,
    }
}

pub async fn spawn_system(backend: TestBackend, options: Options) -> System {
    let mut partial = spawn_partial(backend, options).await;
    let inventory = partial.start_inventory().await;
    System {
        store: partial.store,
        inventory,
        store_clock: partial.store_clock,
    }
}

/// Moves the store's clock forward by `step` until `check` holds: the
/// background workers sleep on that clock, so each step releases whatever
/// they scheduled (a retry, a void) — without the test waiting for real
/// time to pass.
pub async fn advance_until<T, F, Fut>(clock: &ManualClock, step: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(std::time::Duration::from_secs(20), what, || {
        clock.advance(step);
        check()
    })
    .await
}
