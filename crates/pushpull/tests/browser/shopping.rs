//! Shopping in each mode, as a learner does: switch the mode on the
//! settings page, place an order through the form, and watch the stock
//! move on the inventory's page — which stays open in another tab and is
//! never reloaded.

use crate::browser::Browser;
use crate::system::spawn_system;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_each_mode_moves_the_stock_on_the_open_inventory_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let store = sys.store("");
    let inventory = sys.inventory("");

    browser
        .run(move |page| async move {
            // The inventory's stock page, opened once.
            let inventory_tab = page.client.window().await.unwrap();
            page.goto(&format!("{inventory}/")).await;
            page.wait_live().await;
            page.execute("window.__openedOnce = 'yes'; return null;")
                .await;
            let store_tab = page.client.new_window(true).await.unwrap().handle;

            for (mode, sku, quantity, before) in [
                ("webhook", "TEA-SENCHA", 2, 40),
                ("api", "TEA-ASSAM", 3, 60),
                ("poll", "TEA-OOLONG", 1, 12),
                ("hybrid", "MUG-BLUE", 2, 25),
            ] {
                page.client
                    .switch_to_window(store_tab.clone())
                    .await
                    .unwrap();

                // Switch the mode on the settings page.
                page.goto(&format!("{store}/settings")).await;
                page.click(&format!("label.choice.mode-{mode}")).await;
                page.click("#switch-mode").await;
                page.wait_for_text(
                    "#current-mode",
                    &format!("the settings page to show {mode} mode"),
                    |t| t == mode,
                )
                .await;
                assert!(page.path().await.contains("notice=mode"));
                if mode == "api" {
                    page.screenshot("store-settings").await;
                }

                // Place an order through the form.
                page.goto(&format!("{store}/")).await;
                assert_eq!(
                    page.attr(".mode-banner", "data-mode").await.as_deref(),
                    Some(mode)
                );
                page.fill("#name", "Ada Lovelace").await;
                page.fill("#email", "ada@example.com").await;
                page.fill(&format!("#qty-{sku}"), &quantity.to_string())
                    .await;
                if mode == "webhook" {
                    page.screenshot("store-front").await;
                }
                page.click("#place-order").await;
                page.wait_for("the order's page", || async {
                    page.path().await.starts_with("/orders/ord_").then_some(())
                })
                .await;
                // Confirmed — in webhook, poll and hybrid mode after the
                // page was drawn, so the page itself must take the news.
                page.wait_live().await;
                page.wait_for(&format!("the {mode} order to be confirmed"), || async {
                    (page.attr("#order-status", "data-status").await.as_deref()
                        == Some("confirmed"))
                    .then_some(())
                })
                .await;
                assert!(
                    page.count("svg .seq-row").await >= 1,
                    "the sequence diagram has an arrow"
                );
                page.screenshot(&format!("store-order-{mode}")).await;

                // The inventory's page shows the new level by itself.
                page.client
                    .switch_to_window(inventory_tab.clone())
                    .await
                    .unwrap();
                let expected = (before - quantity).to_string();
                page.wait_for_text(
                    &format!("tr[data-sku=\"{sku}\"] .on-hand"),
                    &format!("{sku} to drop to {expected} on the inventory page"),
                    |t| t == expected,
                )
                .await;
                assert_eq!(
                    page.execute("return window.__openedOnce || null;").await,
                    serde_json::json!("yes"),
                    "the inventory page was not reloaded"
                );
            }
            page.screenshot("inventory-stock").await;
        })
        .await;
    drop(sys);
}
