//! Doing it by hand, as a learner does: the tour's XML step pointed at the
//! capture inbox, a delivery's signature checked in the page with the
//! secret the store showed once (and refused with another), and a webhook
//! copied as curl from an order page, run in a shell, and answered by the
//! inventory as the duplicate it is.

use crate::browser::{Browser, Page};
use crate::system::spawn_system;

/// The text of the first element matching `css` exactly as the page holds
/// it (WebDriver's text is what is *shown*: none for a closed section).
async fn exact_text(page: &Page, css: &str) -> String {
    let script = format!(
        "return document.querySelector({}).textContent;",
        serde_json::to_string(css).unwrap()
    );
    page.execute(&script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Types `secret` into the first by-hand box on the page and waits for
/// its verdict.
async fn check_secret(page: &Page, box_css: &str, secret: &str) -> String {
    page.click(&format!("{box_css} > summary")).await;
    page.fill(&format!("{box_css} [data-verify-secret]"), secret)
        .await;
    page.wait_for("the page to recompute the signature", || async {
        page.attr(&format!("{box_css} [data-verify-result]"), "data-verdict")
            .await
            .filter(|v| v != "none")
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xml_endpoint_at_the_inbox_captures_a_delivery_whose_signature_checks_by_hand() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let store = sys.store("");
    let inventory = sys.inventory("");
    let (shop, orders) = (sys.store.client.clone(), sys.store.url("/api/orders"));

    browser
        .run(move |page| async move {
            // Settings offer the inbox; add it as an XML endpoint.
            page.goto(&format!("{store}/settings#endpoints")).await;
            let offered = page
                .text("#inbox-offer code")
                .await
                .expect("the inbox is offered");
            assert_eq!(offered, format!("{inventory}/inbox/my-hooks"));
            page.fill("#endpoint-url", &offered).await;
            page.click("#endpoint-format option[value=xml]").await;
            page.click("form[action='/settings/endpoints'] button[type=submit]")
                .await;
            let secret = page
                .text("#secret-value")
                .await
                .expect("the secret, shown once");
            assert!(secret.starts_with("whsec_"), "{secret}");
            page.screenshot("store-settings-inbox-endpoint").await;

            // The welcome ping lands first (a second after registering), so
            // that the order's delivery is the newest capture: the page lists
            // the newest first, and which of the two came first would
            // otherwise be a race.
            page.wait_for("the welcome ping in the inbox", || async {
                page.goto(&format!("{inventory}/inbox/my-hooks")).await;
                (page.count("[data-capture]").await >= 1).then_some(())
            })
            .await;

            // The inbox page stays open from here on: the order's delivery
            // must appear in it without a reload (`inbox.captured`). The
            // order is placed through the API, so this tab never leaves;
            // a mark on the document tells whether it was reloaded.
            page.wait_live().await;
            page.execute("window.openBeforeTheDelivery = true; return null;")
                .await;
            let placed = shop
                .post(&orders)
                .json(&store::testing::order_body("TEA-SENCHA", 1))
                .send()
                .await
                .expect("POST /api/orders");
            assert_eq!(placed.status(), 201);
            page.wait_for("the delivery to appear in the open inbox", || async {
                (page.count("[data-capture]").await >= 2).then_some(())
            })
            .await;
            assert_eq!(
                page.execute("return window.openBeforeTheDelivery === true;")
                    .await,
                serde_json::Value::Bool(true),
                "the capture appeared by a reload, not live"
            );

            // The inbox has it, in XML, signed.
            let body = exact_text(&page, "[data-capture] [data-raw-body]").await;
            assert!(
                body.starts_with("<?xml") && body.contains("order.created"),
                "{body}"
            );
            page.text("[data-capture] summary")
                .await
                .filter(|s| s.contains("application/xml"))
                .expect("an XML capture");

            // The right secret matches; another does not.
            assert_eq!(
                check_secret(&page, "[data-capture] .by-hand", &secret).await,
                "match"
            );
            page.screenshot("inventory-inbox-verified").await;
            let other = contract::signing::WebhookSecret::generate().expose();
            page.fill("[data-capture] .by-hand [data-verify-secret]", &other)
                .await;
            page.wait_for("the mismatch", || async {
                (page
                    .attr(
                        "[data-capture] .by-hand [data-verify-result]",
                        "data-verdict",
                    )
                    .await
                    .as_deref()
                    == Some("mismatch"))
                .then_some(())
            })
            .await;
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_copied_as_curl_runs_and_is_answered_as_a_duplicate() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("webhook").await;
    let placed: serde_json::Value = sys
        .store
        .post_order(&serde_json::json!({
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [{"sku": "TEA-SENCHA", "quantity": 1}],
        }))
        .await
        .json()
        .await
        .unwrap();
    let id = placed["id"].as_str().unwrap().to_owned();
    let inventory_secret: String = sqlx::query_scalar("SELECT secret FROM webhook_secrets LIMIT 1")
        .fetch_one(sys.inventory.state.ctx.db.pool())
        .await
        .unwrap();
    let order_page = sys.store(&format!("/orders/{id}"));

    browser
        .run(move |page| async move {
            page.goto(&order_page).await;
            page.wait_live().await;
            page.wait_for("the order to be confirmed", || async {
                (page.attr("#order-status", "data-status").await.as_deref() == Some("confirmed"))
                    .then_some(())
            })
            .await;
            let webhook = "details.exchange[data-channel=webhook]";
            page.click(&format!("{webhook} > summary")).await;

            // Verify by hand with the inventory's own secret.
            assert_eq!(
                check_secret(&page, &format!("{webhook} .by-hand"), &inventory_secret).await,
                "match"
            );
            page.screenshot("store-order-verified-by-hand").await;

            // Copy as curl, and run it.
            page.click(&format!("{webhook} .as-curl > summary")).await;
            let curl = exact_text(&page, &format!("{webhook} [data-curl]")).await;
            let run = curl.clone();
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(format!("{run} --max-time 20"))
                    .output()
            })
            .await
            .unwrap()
            .expect("sh runs");
            let answer = String::from_utf8_lossy(&out.stdout);
            assert!(answer.starts_with("HTTP/1.1 200"), "{curl}\n{answer}");
            assert!(answer.contains("\"duplicate\":true"), "{answer}");

            // Replay it from the page, to the inventory as filled in: a
            // duplicate again, shown on the page.
            page.click(&format!("{webhook} .replay > summary")).await;
            page.click(&format!("{webhook} [data-replay]")).await;
            let status = page
                .wait_for_text("[data-replay-status]", "the replay's answer", |t| {
                    !t.is_empty()
                })
                .await;
            assert_eq!(status, "200 OK");
            let body = exact_text(&page, "[data-replay-body]").await;
            assert!(body.contains("\"duplicate\": true"), "{body}");
            page.screenshot("store-replayed").await;
        })
        .await;
}
