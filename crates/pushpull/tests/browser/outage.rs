//! The README's outage, at a learner's pace: "down" on, an order placed,
//! a minute or more with the order page open — then "down" off, and the
//! order lands by itself; and, when the outage outlasts the whole retry
//! schedule, the order page says the delivery gave up and its Redeliver
//! button brings it home. The store runs on a manual clock that the test
//! moves, so minutes pass without waiting for them.

use crate::browser::{Browser, Page};
use crate::system::{Setup, System, spawn_system_with};

/// Turns "down" on or off from the inventory's chaos page, as a learner.
pub(crate) async fn set_down(page: &Page, inventory: &str, down: bool) {
    page.goto(&format!("{inventory}/chaos")).await;
    if down {
        page.click("#chaos-down").await;
        page.click("#chaos-apply").await;
        page.wait_for_text("#chaos-summary", "the inventory to be down", |t| {
            t.starts_with("down")
        })
        .await;
    } else {
        page.click("#chaos-heal").await;
        page.wait_for_text("#chaos-summary", "the inventory to be healed", |t| {
            t.starts_with("all off")
        })
        .await;
    }
}

/// Places a one-mug order through the shop's form and returns its id,
/// with its page open and live.
pub(crate) async fn place_order(page: &Page, store: &str) -> String {
    page.goto(&format!("{store}/")).await;
    page.fill("#name", "Grace Hopper").await;
    page.fill("#email", "grace@example.com").await;
    page.fill("#qty-MUG-WHITE", "1").await;
    page.click("#place-order").await;
    let path = page
        .wait_for("the order's page", || async {
            let path = page.path().await;
            path.starts_with("/orders/ord_").then_some(path)
        })
        .await;
    page.wait_live().await;
    path.trim_start_matches("/orders/").to_owned()
}

/// Waits until the order page's delivery notice is in `phase` and its
/// headline satisfies `ok`; returns the headline.
async fn delivery_says(page: &Page, phase: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    page.wait_for(what, || async {
        let shown = page.attr("#delivery", "data-phase").await?;
        let headline = page.text("#delivery .progress-head strong").await?;
        (shown == phase && ok(&headline)).then_some(headline)
    })
    .await
}

async fn order_page_status(page: &Page) -> Option<String> {
    page.attr("#order-status", "data-status").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_for_a_minute_then_up_and_the_order_lands_by_itself() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    // The demo's own schedule: 1 s, 5 s, 30 s, 2 min, 10 min.
    let sys = spawn_system_with(Setup {
        retry_schedule: "1s,5s,30s,2m,10m",
        manual_clock: true,
        ..Setup::new("webhook")
    })
    .await;
    let (store, inventory) = (sys.store(""), sys.inventory(""));
    let sys = std::sync::Arc::new(sys);
    let s = sys.clone();

    browser
        .run(move |page| async move {
            let sys: &System = &s;
            set_down(&page, &inventory, true).await;
            let order_id = place_order(&page, &store).await;

            // The first attempt meets the 503, and the order page says so.
            let headline = delivery_says(&page, "retrying", "the first attempt to fail", |h| {
                h.starts_with("Attempt 1 of 6 failed")
            })
            .await;
            assert_eq!(
                headline,
                "Attempt 1 of 6 failed: it answered 503 Service Unavailable."
            );
            assert!(
                page.text("#delivery")
                    .await
                    .unwrap_or_default()
                    .contains("Next attempt at ")
            );
            assert_eq!(order_page_status(&page).await.as_deref(), Some("pending"));
            page.screenshot("store-order-webhook-retrying").await;

            // A minute passes with the page open: it follows every attempt.
            sys.let_time_pass(60).await;
            delivery_says(
                &page,
                "retrying",
                "the fourth attempt to fail, shown live",
                |h| h.starts_with("Attempt 4 of 6 failed"),
            )
            .await;
            assert_eq!(order_page_status(&page).await.as_deref(), Some("pending"));
            assert_eq!(
                page.count("svg .msg-line.failed").await,
                4,
                "four red requests"
            );
            page.screenshot("store-order-webhook-down-a-minute").await;

            // Up again; back to the order, and nobody presses anything: the
            // next attempt on the schedule (two minutes after the fourth)
            // lands.
            set_down(&page, &inventory, false).await;
            page.goto(&format!("{store}/orders/{order_id}")).await;
            page.wait_live().await;
            for _ in 0..130 {
                if sys.order_status(&order_id).await != "pending" {
                    break;
                }
                sys.let_time_pass(1).await;
            }
            assert_eq!(sys.order_status(&order_id).await, "confirmed");
            page.wait_for(
                "the order page to show it confirmed, without a reload",
                || async {
                    (order_page_status(&page).await.as_deref() == Some("confirmed")).then_some(())
                },
            )
            .await;
            let headline = delivery_says(
                &page,
                "delivered",
                "the delivery to be shown delivered",
                |_| true,
            )
            .await;
            assert!(headline.ends_with("on attempt 5."), "{headline}");
            assert!(!headline.contains("by hand"), "{headline}");
            assert_eq!(page.count("[data-redeliver]").await, 0);
            page.screenshot("store-order-webhook-landed-by-itself")
                .await;

            // Settled: opened again, the page's live region fetches itself
            // once on connecting, finds what it already shows, and swaps
            // nothing — no needless re-render under a reader's eyes.
            page.goto(&format!("{store}/orders/{order_id}")).await;
            page.wait_live().await;
            let region = "[data-live=\"order\"]";
            let fetched = page.attr(region, "data-fetched").await;
            assert!(fetched.is_some_and(|n| n.parse::<u32>().unwrap() >= 1));
            assert_eq!(page.attr(region, "data-refreshed").await, None);
        })
        .await;
    drop(sys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_gave_up_is_redelivered_from_the_order_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    // A short schedule (three attempts), so it runs out while "down".
    let sys = spawn_system_with(Setup {
        retry_schedule: "1s,1s",
        manual_clock: true,
        ..Setup::new("webhook")
    })
    .await;
    let (store, inventory) = (sys.store(""), sys.inventory(""));
    let sys = std::sync::Arc::new(sys);
    let s = sys.clone();

    browser
        .run(move |page| async move {
            let sys: &System = &s;
            set_down(&page, &inventory, true).await;
            let order_id = place_order(&page, &store).await;
            delivery_says(&page, "retrying", "the first attempt to fail", |h| {
                h.starts_with("Attempt 1 of 3 failed")
            })
            .await;

            // Retry-After: 5 makes each wait five seconds; after fifteen,
            // the schedule has run out.
            sys.let_time_pass(15).await;
            let headline = delivery_says(
                &page,
                "gave-up",
                "the delivery to give up, shown live",
                |_| true,
            )
            .await;
            assert!(headline.starts_with("Gave up at "), "{headline}");
            assert!(
                headline
                    .ends_with("after 3 attempts: the last one answered 503 Service Unavailable."),
                "{headline}"
            );
            assert_eq!(order_page_status(&page).await.as_deref(), Some("pending"));
            page.screenshot("store-order-webhook-gave-up").await;

            // Up again; the Redeliver button on the order page.
            set_down(&page, &inventory, false).await;
            page.goto(&format!("{store}/orders/{order_id}")).await;
            page.wait_live().await;
            page.click("#delivery [data-redeliver]").await;
            page.wait_for("the order page again, with the notice", || async {
                page.path()
                    .await
                    .contains("notice=redelivered")
                    .then_some(())
            })
            .await;
            page.wait_live().await;
            page.wait_for("the order to be confirmed", || async {
                (order_page_status(&page).await.as_deref() == Some("confirmed")).then_some(())
            })
            .await;
            let headline = delivery_says(
                &page,
                "delivered",
                "the delivery to be shown delivered",
                |_| true,
            )
            .await;
            assert!(
                headline.ends_with("on attempt 4 (redelivered by hand)."),
                "{headline}"
            );
            let answers = page
                .texts("details.exchange[data-channel=\"webhook\"] [data-http-status]")
                .await;
            assert_eq!(
                answers,
                [
                    "503 Service Unavailable",
                    "503 Service Unavailable",
                    "503 Service Unavailable",
                    "200 OK"
                ]
            );
            page.screenshot("store-order-webhook-redelivered").await;
        })
        .await;
    drop(sys);
}
