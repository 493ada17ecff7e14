//! The instruments: the burst on the compare page with its live progress,
//! the flow page filling both columns as a message crosses — then every
//! page, at desktop and at phone width, screenshotted and checked for
//! sideways scrolling.

use fantoccini::key::Key;

use crate::browser::{Browser, Page};
use crate::system::spawn_system;

const STORE_PAGES: &[(&str, &str)] = &[
    ("/", "store-front"),
    ("/orders", "store-orders"),
    ("/flow", "store-flow"),
    ("/settings", "store-settings"),
    ("/compare", "store-compare"),
    ("/tour", "store-tour"),
    ("/reference", "store-reference"),
];

const INVENTORY_PAGES: &[(&str, &str)] = &[
    ("/", "inventory-stock"),
    ("/messages", "inventory-messages"),
    ("/chaos", "inventory-chaos"),
    ("/poller", "inventory-poller"),
    ("/keys", "inventory-keys"),
    ("/reference", "inventory-reference"),
];

/// Fails if the page scrolls sideways at the current width, naming the
/// elements that stick out.
async fn assert_fits(page: &Page, what: &str) {
    let overflow = page
        .execute("return document.documentElement.scrollWidth - window.innerWidth;")
        .await
        .as_i64()
        .unwrap_or(0);
    if overflow > 0 {
        let culprits = page
            .execute(
                "const w = window.innerWidth;\
                 const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {\
                   if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };\
                 return [...document.querySelectorAll('body *')]\
                 .filter(e => e.getBoundingClientRect().right > w + 1 && !clipped(e))\
                 .slice(-5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + \
                 Math.round(e.getBoundingClientRect().right) + 'px: ' + (e.textContent || '').trim().slice(0, 40));",
            )
            .await;
        panic!("{what} is {overflow} px wider than the window; sticking out: {culprits}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_burst_the_flow_and_every_page_at_two_widths() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let store = sys.store("");
    let inventory = sys.inventory("");
    let client = reqwest::Client::new();

    browser
        .run(move |page| async move {
            // The burst: one click, progress shown live, the charts filled.
            // The poller is paused first, so the burst is sure to be seen
            // waiting for it — then resumed, and the page follows.
            let poller = |paused: bool| {
                let client = client.clone();
                let url = format!("{inventory}/api/poller");
                async move {
                    let r = client.put(url).json(&serde_json::json!({ "paused": paused })).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                }
            };
            poller(true).await;
            page.goto(&format!("{store}/compare")).await;
            page.wait_live().await;
            page.click("#start-burst").await;
            page.wait_for("the burst to start", || async {
                page.attr(".burst-panel", "data-running").await.filter(|r| r == "true").map(|_| ())
            })
            .await;
            page.wait_live().await;
            page.wait_for_text("li[data-step=\"poll\"]", "the burst to wait for the paused poller", |t| {
                t.contains("waiting for the inventory")
            })
            .await;
            page.screenshot("store-compare-burst-running").await;
            poller(false).await;
            page.wait_for("the burst to finish, shown without a reload", || async {
                page.attr(".burst-panel", "data-finished").await.filter(|f| f == "true").map(|_| ())
            })
            .await;
            page.wait_for("the charts to count five poll-mode orders", || async {
                let cells = page.text("tr[data-mode=\"poll\"] td").await?;
                (cells == "5").then_some(())
            })
            .await;
            assert_eq!(page.count("figure[data-chart] svg.bar-track").await, 4 * 4, "four charts, a bar track per mode");

            // The flow: a message crosses while we watch, and shows up on
            // both sides, arrow pointing from the store to the inventory.
            page.goto(&format!("{store}/flow")).await;
            page.wait_live().await;
            page.wait_for("the inventory's column to load from the inventory", || async {
                (page.count(".flow-col.inventory .flow-item").await > 0).then_some(())
            })
            .await;
            let order = client
                .post(format!("{store}/api/orders"))
                .json(&serde_json::json!({
                    "customer": {"name": "Watcher", "email": "w@example.com"},
                    "items": [{"sku": "TIN-CADDY", "quantity": 1}]
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(order.status(), 201);
            let order: serde_json::Value = order.json().await.unwrap();
            let order_id = order["id"].as_str().unwrap().to_owned();
            // Found by the order it carried, not by a "new" mark: the
            // inventory polls every 400 ms, and each poll re-renders both
            // columns (after which yesterday's new row is not new).
            let webhook_of = |side: &str| {
                format!(".flow-col.{side} .flow-item[data-channel=\"webhook\"]:has(a[href$=\"/orders/{order_id}\"]) .arrow.to-inventory")
            };
            page.wait_for("the webhook on the store's side", || async {
                (page.count(&webhook_of("store")).await > 0).then_some(())
            })
            .await;
            page.wait_for("the webhook on the inventory's side", || async {
                (page.count(&webhook_of("inventory")).await > 0).then_some(())
            })
            .await;
            // Side by side, every row is the same height in both columns,
            // so rows line up instead of drifting apart.
            let heights = page
                .execute(
                    "return [...document.querySelectorAll('.flow-col .flow-item')].map(e => Math.round(e.getBoundingClientRect().height));",
                )
                .await;
            let heights: Vec<i64> = serde_json::from_value(heights).unwrap();
            assert!(heights.len() > 2 && heights.iter().all(|h| *h == heights[0]), "{heights:?}");
            let tops = page
                .execute(
                    "const top = s => Math.round(document.querySelector(s).getBoundingClientRect().top);\
                     return [top('.flow-col.store .flow-list'), top('.flow-col.inventory .flow-list'), top('[data-wire]')];",
                )
                .await;
            let tops: Vec<i64> = serde_json::from_value(tops).unwrap();
            assert!(tops.iter().all(|t| *t == tops[0]), "both lists and the wire start level: {tops:?}");
            // Polls go the other way, on the inventory's timer.
            assert!(page.count(".flow-col.store .flow-item[data-channel=\"feed\"] .arrow.to-store").await > 0);
            page.wait_for("a message crossing the wire", || async {
                (page.count("[data-wire] .packet").await > 0).then_some(())
            })
            .await;

            // The keyboard: the first Tab lands on "Skip to content".
            page.goto(&format!("{store}/")).await;
            page.find("body").await.send_keys(&Key::Tab.to_string()).await.unwrap();
            assert_eq!(page.execute("return document.activeElement.className;").await, "skip-link");

            // Every page, at desktop width and at phone width.
            page.goto(&format!("{store}/orders")).await;
            let order_path = page.attr("table.orders tbody tr th a", "href").await.expect("an order to show");
            let mut pages: Vec<(String, String)> = STORE_PAGES
                .iter()
                .map(|(path, name)| (format!("{store}{path}"), name.to_string()))
                .chain(INVENTORY_PAGES.iter().map(|(path, name)| (format!("{inventory}{path}"), name.to_string())))
                .collect();
            pages.push((format!("{store}{order_path}"), "store-order".into()));
            for (width, height, prefix) in [(1280, 900, "desktop"), (390, 844, "phone")] {
                page.client.set_window_size(width, height).await.unwrap();
                for (url, name) in &pages {
                    page.goto(url).await;
                    page.wait_live().await;
                    assert_fits(&page, &format!("{name} at {width} px")).await;
                    page.screenshot(&format!("{prefix}-{name}")).await;
                }
            }
        })
        .await;
    drop(sys);
}
