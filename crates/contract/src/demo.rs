//! The demo shop's catalog, which both services seed from on first start:
//! the store its products and prices, the inventory its stock.
//!
//! It lives in the contract because it is the one fact both sides must
//! agree on before any message is sent (the SKUs). A few items start with
//! very little stock on purpose, so that a learner quickly sees api mode
//! refuse an order that webhook and poll mode accept and then backorder.

/// The ports the demo listens on (`cargo run`: the store on
/// `http://127.0.0.1:8080`, the inventory on `:8081`). Each service's
/// default address, and its default idea of where the other one is, come
/// from these.
pub const STORE_PORT: u16 = 8080;
pub const INVENTORY_PORT: u16 = 8081;

/// Demo API keys, so `cargo run` works with no set-up: the store accepts
/// the first on its order feed, the inventory the second on
/// `/update_inventory`. Anything reachable by others must set its own
/// (`STORE_API_KEY`, `INVENTORY_API_KEY`).
pub const DEMO_STORE_API_KEY: &str = "pp_demo_store_key_change_me";
pub const DEMO_INVENTORY_API_KEY: &str = "pp_demo_inventory_key_change_me";

pub struct DemoProduct {
    pub sku: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub price_cents: i64,
    pub initial_stock: i64,
}

pub const CATALOG: &[DemoProduct] = &[
    DemoProduct {
        sku: "TEA-SENCHA",
        name: "Sencha green tea, 100 g",
        description: "Grassy, bright, steamed Japanese green tea.",
        price_cents: 1250,
        initial_stock: 40,
    },
    DemoProduct {
        sku: "TEA-ASSAM",
        name: "Assam breakfast tea, 250 g",
        description: "Malty black tea that takes milk well.",
        price_cents: 990,
        initial_stock: 60,
    },
    DemoProduct {
        sku: "TEA-OOLONG",
        name: "Milk oolong, 50 g",
        description: "Creamy, floral, rolled Taiwanese oolong.",
        price_cents: 1475,
        initial_stock: 12,
    },
    DemoProduct {
        sku: "TEA-MATCHA",
        name: "Ceremonial matcha, 30 g",
        description: "Stone-ground shade-grown tea powder.",
        price_cents: 2400,
        initial_stock: 5,
    },
    DemoProduct {
        sku: "TEA-ROOIBOS",
        name: "Rooibos, 200 g",
        description: "Caffeine-free red bush from the Cederberg.",
        price_cents: 850,
        initial_stock: 30,
    },
    DemoProduct {
        sku: "POT-KYUSU",
        name: "Kyusu teapot, 350 ml",
        description: "Side-handled clay pot with a fine mesh.",
        price_cents: 4800,
        initial_stock: 3,
    },
    DemoProduct {
        sku: "POT-GLASS",
        name: "Glass teapot, 600 ml",
        description: "Borosilicate pot with a steel infuser.",
        price_cents: 2950,
        initial_stock: 15,
    },
    DemoProduct {
        sku: "MUG-BLUE",
        name: "Blue stoneware mug",
        description: "Hand-glazed, 300 ml, dishwasher safe.",
        price_cents: 1800,
        initial_stock: 25,
    },
    DemoProduct {
        sku: "MUG-WHITE",
        name: "White porcelain cup",
        description: "Thin-walled tasting cup, 150 ml.",
        price_cents: 1200,
        initial_stock: 25,
    },
    DemoProduct {
        sku: "WHISK-BAMBOO",
        name: "Bamboo matcha whisk",
        description: "Hand-cut chasen with 100 prongs.",
        price_cents: 1650,
        initial_stock: 4,
    },
    DemoProduct {
        sku: "KETTLE-GOOSE",
        name: "Gooseneck kettle, 1 l",
        description: "Stovetop kettle with a pouring spout.",
        price_cents: 5500,
        initial_stock: 8,
    },
    DemoProduct {
        sku: "TIN-CADDY",
        name: "Airtight tea caddy",
        description: "Double-lidded tin that keeps tea fresh.",
        price_cents: 1400,
        initial_stock: 20,
    },
];
