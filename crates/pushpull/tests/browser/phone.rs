//! At phone width (390 × 844): what a narrow screen used to hide is in
//! reach — every navigation entry, the sequence diagram's inventory lane
//! (the drawing scrolls inside its box and says so), and the flow page's
//! inventory side (a tab of its own, not 5000 px down the page).
//!
//! Each check measures the page as laid out, so a stylesheet that hides,
//! clips or stacks these again fails here; the screenshots are written to
//! `target/screenshots/phone-*.png`.

use crate::browser::{Browser, Page};
use crate::system::spawn_system;

/// Whether the element `css` is drawn inside the window: displayed, with
/// a size, and with its box wholly between the window's left and right.
async fn in_sight(page: &Page, css: &str) -> bool {
    let script = format!(
        "const e = document.querySelector({css:?}); if (!e) return false;\
         const r = e.getBoundingClientRect();\
         return getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility !== 'hidden' \
           && r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth;"
    );
    page.execute(&script).await == serde_json::Value::Bool(true)
}

/// Whether the element `css` is displayed at all (takes up room).
async fn displayed(page: &Page, css: &str) -> bool {
    let script = format!(
        "const e = document.querySelector({css:?});\
         return !!e && e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none';"
    );
    page.execute(&script).await == serde_json::Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_reaches_every_entry_the_whole_diagram_and_both_sides_of_the_flow() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let store = sys.store("");
    let inventory = sys.inventory("");
    let client = reqwest::Client::new();
    let placed = client
        .post(format!("{store}/api/orders"))
        .json(&serde_json::json!({
            "customer": {"name": "Pocket", "email": "pocket@example.com"},
            "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    let placed: serde_json::Value = placed.json().await.unwrap();
    let order_id = placed["id"].as_str().unwrap().to_owned();

    browser
        .run(move |page| async move {
            page.client.set_window_size(390, 844).await.unwrap();
            let width = page.execute("return window.innerWidth;").await.as_i64().unwrap();
            assert!(width <= 400, "the window is phone-wide: {width} px");

            // The navigation: every entry in sight, the last ones too.
            for (base, name, entries) in [
                (&store, "store", &["/", "/orders", "/flow", "/compare", "/settings", "/tour", "/reference"][..]),
                (&inventory, "inventory", &["/", "/messages", "/chaos", "/poller", "/keys", "/reference"][..]),
            ] {
                page.goto(&format!("{base}/")).await;
                page.wait_live().await;
                for href in entries {
                    let link = format!(".site-nav a[href=\"{href}\"]");
                    assert!(in_sight(&page, &link).await, "{name}'s navigation entry {href} is in sight at {width} px");
                }
                page.screenshot(&format!("phone-{name}-navigation")).await;
            }
            assert_eq!(page.text(".site-nav a[href=\"/reference\"]").await.as_deref(), Some("API"));

            // The order's sequence diagram: it scrolls inside its box, the
            // box says so, and scrolled to its end the inventory lane is
            // whole inside the box.
            page.goto(&format!("{store}/orders/{order_id}")).await;
            page.wait_live().await;
            page.wait_for("the webhook to land and the order to be confirmed", || async {
                page.attr("#order-status", "data-status").await.filter(|s| s == "confirmed")
            })
            .await;
            let scroll = "[data-sequence-scroll]";
            let sizes = page
                .execute(&format!(
                    "const e = document.querySelector({scroll:?}); return [e.scrollWidth, e.clientWidth];"
                ))
                .await;
            let (scroll_width, client_width): (i64, i64) = serde_json::from_value(sizes).unwrap();
            assert!(scroll_width > client_width, "the diagram scrolls inside its box: {scroll_width} > {client_width}");
            assert!(in_sight(&page, "[data-scroll-hint]").await, "the scroll hint is shown");
            assert_eq!(page.text("[data-scroll-hint]").await.as_deref(), Some("scroll →"));
            assert!(page.count("[data-sequence-scroll] .seq-row").await > 0, "the diagram has arrows");
            page.screenshot("phone-store-order-diagram").await;
            let lane = page
                .execute(&format!(
                    "const box = document.querySelector({scroll:?}); box.scrollLeft = box.scrollWidth;\
                     const lane = box.querySelector('rect.lane-box.inventory').getBoundingClientRect();\
                     const b = box.getBoundingClientRect();\
                     return [Math.round(lane.left), Math.round(lane.right), Math.round(b.left), Math.round(b.right)];"
                ))
                .await;
            let lane: Vec<i64> = serde_json::from_value(lane).unwrap();
            assert!(lane[0] >= lane[2] && lane[1] <= lane[3] + 1, "scrolled to its end, the inventory lane is inside the box: {lane:?}");
            page.screenshot("phone-store-order-diagram-scrolled").await;

            // The flow page: two tabs, the store's side first; the
            // inventory's tab shows the inventory's side instead.
            page.goto(&format!("{store}/flow")).await;
            page.wait_live().await;
            assert!(in_sight(&page, "label[for=\"flow-show-inventory\"]").await, "the inventory tab is in sight");
            assert!(displayed(&page, ".flow-col.store").await, "the store's side is shown first");
            assert!(!displayed(&page, ".flow-col.inventory").await, "the inventory's side waits behind its tab");
            page.screenshot("phone-store-flow-store-tab").await;
            page.click("label[for=\"flow-show-inventory\"]").await;
            assert!(displayed(&page, ".flow-col.inventory").await, "the inventory tab shows the inventory's side");
            assert!(!displayed(&page, ".flow-col.store").await, "and hides the store's");
            page.wait_for("the inventory's side to show its messages", || async {
                in_sight(&page, ".flow-col.inventory .flow-item").await.then_some(())
            })
            .await;
            // Near the top of the page, where the tab is: not far below.
            let top = page
                .execute("return Math.round(document.querySelector('.flow-col.inventory').getBoundingClientRect().top + window.scrollY);")
                .await
                .as_i64()
                .unwrap();
            assert!(top < 1200, "the inventory's side starts {top} px down the page");
            page.screenshot("phone-store-flow-inventory-tab").await;

            // Wide again: no tabs, both sides, no hint.
            page.client.set_window_size(1280, 900).await.unwrap();
            page.goto(&format!("{store}/flow")).await;
            assert!(!displayed(&page, "[data-flow-tabs]").await, "no tabs on a wide screen");
            assert!(displayed(&page, ".flow-col.store").await && displayed(&page, ".flow-col.inventory").await);
            page.goto(&format!("{store}/orders/{order_id}")).await;
            assert!(!displayed(&page, "[data-scroll-hint]").await, "no scroll hint when the diagram fits");
        })
        .await;
    drop(sys);
}
