//! Breaking the inventory from its chaos controls, and watching a webhook
//! ride it out: the failed attempt is on the order's timeline, and once the
//! inventory is back the delivery goes through.

use crate::browser::Browser;
use crate::system::spawn_system;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_retried_while_the_inventory_is_down_and_delivered_after() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let store = sys.store("");
    let inventory = sys.inventory("");

    browser
        .run(move |page| async move {
            // Down.
            page.goto(&format!("{inventory}/chaos")).await;
            page.click("#chaos-down").await;
            page.click("#chaos-apply").await;
            page.wait_for_text("#chaos-summary", "the inventory to be down", |t| {
                t.starts_with("down")
            })
            .await;
            page.screenshot("inventory-chaos-down").await;

            // A webhook-mode order: its first attempt meets a 503.
            page.goto(&format!("{store}/")).await;
            page.fill("#name", "Grace Hopper").await;
            page.fill("#email", "grace@example.com").await;
            page.fill("#qty-MUG-WHITE", "1").await;
            page.click("#place-order").await;
            let order_path = page
                .wait_for("the order's page", || async {
                    let path = page.path().await;
                    path.starts_with("/orders/ord_").then_some(path)
                })
                .await;
            let order_id = order_path.trim_start_matches("/orders/").to_owned();
            page.wait_live().await;
            page.wait_for("a failed attempt on the timeline", || async {
                let status = page
                    .text("details.exchange[data-failed=\"true\"] [data-http-status]")
                    .await?;
                (status == "503 Service Unavailable").then_some(())
            })
            .await;
            assert_eq!(
                page.attr("#order-status", "data-status").await.as_deref(),
                Some("pending")
            );
            assert!(
                page.count("svg .msg-line.failed").await >= 1,
                "the failed attempt is red in the diagram"
            );
            page.screenshot("store-order-webhook-inventory-down").await;

            // Back up.
            page.goto(&format!("{inventory}/chaos")).await;
            page.click("#chaos-heal").await;
            page.wait_for_text("#chaos-summary", "the inventory to be healed", |t| {
                t.starts_with("all off")
            })
            .await;

            // Redeliver from the delivery log (rather than wait for the
            // next retry — which would also come, five seconds after the
            // last), and watch the log say it went through.
            page.goto(&format!("{store}/settings")).await;
            page.wait_live().await;
            let row = format!("tr[data-order=\"{order_id}\"]");
            page.click(&format!("{row} button")).await;
            page.wait_for("the delivery to succeed", || async {
                (page.attr(&row, "data-state").await.as_deref() == Some("succeeded")).then_some(())
            })
            .await;
            page.screenshot("store-settings-delivery-log").await;

            // The order is confirmed, and its timeline shows both attempts.
            page.goto(&format!("{store}{order_path}")).await;
            page.wait_for("the order to be confirmed", || async {
                (page.attr("#order-status", "data-status").await.as_deref() == Some("confirmed"))
                    .then_some(())
            })
            .await;
            let answers = page
                .texts("details.exchange[data-channel=\"webhook\"] [data-http-status]")
                .await;
            assert_eq!(
                answers.first().map(String::as_str),
                Some("503 Service Unavailable"),
                "{answers:?}"
            );
            assert!(answers.iter().any(|a| a == "200 OK"), "{answers:?}");
            page.screenshot("store-order-webhook-recovered").await;
        })
        .await;
    drop(sys);
}
