//! What a customer types is shown, never run — in the re-rendered form and
//! on every page that shows the order.

use crate::browser::Browser;
use crate::system::spawn_system;

const NAME: &str = r#"<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_in_a_customer_name_is_shown_as_text() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sys = spawn_system("api").await;
    let store = sys.store("");

    browser
        .run(move |page| async move {
            page.goto(&format!("{store}/")).await;
            page.fill("#name", NAME).await;
            page.fill("#email", "not an email").await;
            page.fill("#qty-TEA-SENCHA", "1").await;
            page.click("#place-order").await;

            // Refused: the error sits by its field, what was typed stays.
            let error = page
                .wait_for_text("#email-error", "the email error next to its field", |t| {
                    !t.is_empty()
                })
                .await;
            assert!(
                error.contains("does not look like an email address"),
                "{error}"
            );
            let name = page.find("#name").await.prop("value").await.unwrap();
            assert_eq!(name.as_deref(), Some(NAME));
            let quantity = page
                .find("#qty-TEA-SENCHA")
                .await
                .prop("value")
                .await
                .unwrap();
            assert_eq!(quantity.as_deref(), Some("1"));
            assert_eq!(
                page.execute("return typeof window.__xss;").await,
                "undefined"
            );
            page.screenshot("store-form-errors").await;

            page.fill("#email", "mallory@example.com").await;
            page.click("#place-order").await;
            page.wait_for("the order's page", || async {
                page.path().await.starts_with("/orders/ord_").then_some(())
            })
            .await;
            let shown = page
                .wait_for_text("#customer-name", "the customer's name", |t| !t.is_empty())
                .await;
            assert_eq!(shown, NAME, "the name is shown as the text it is");
            assert_eq!(
                page.count("#customer-name img, #customer-name script")
                    .await,
                0
            );
            assert_eq!(
                page.execute("return typeof window.__xss;").await,
                "undefined"
            );
            page.screenshot("store-order-escaped-name").await;

            page.goto(&format!("{store}/orders")).await;
            let cell = page
                .text("table.orders tbody tr td:nth-of-type(2)")
                .await
                .unwrap_or_default();
            assert_eq!(cell, NAME);
            assert_eq!(
                page.execute("return typeof window.__xss;").await,
                "undefined"
            );
        })
        .await;
    drop(sys);
}
