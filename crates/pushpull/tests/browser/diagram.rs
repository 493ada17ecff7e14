//! The order page's sequence diagram in a real browser: under "down" the
//! retry's wait is written between its arrows, the attempt still to come
//! counts down at the bottom, and clicking an arrow opens its message in
//! the list below — the `<details>` it links to, not just scrolled to.
//! The store runs on a manual clock, so the five-second wait passes when
//! the test says.

use crate::browser::Page;
use crate::outage::{place_order, set_down};
use crate::system::{Setup, System, spawn_system_with};

/// Whether message `n`'s `<details>` in the list is open.
async fn is_open(page: &Page, n: usize) -> bool {
    page.execute(&format!(
        "const d = document.querySelector('details[data-exchange=\"{n}\"]'); return Boolean(d && d.open);"
    ))
    .await
        == serde_json::Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diagram_shows_the_wait_counts_down_and_an_arrow_opens_its_message() {
    let Some(browser) = crate::browser::Browser::start().await else {
        return;
    };
    let sys = spawn_system_with(Setup {
        retry_schedule: "5s,1h",
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

            // The first attempt meets the 503; the next is the diagram's
            // last row, counted down by the script rather than the clock
            // time the server wrote.
            page.wait_for("the first attempt in the diagram", || async {
                (page.count("svg .seq-row").await == 1
                    && page
                        .count("[data-next-attempt-row] time[data-countdown]")
                        .await
                        == 1)
                    .then_some(())
            })
            .await;
            let countdown = page
                .wait_for_text(
                    "[data-next-attempt-row] time",
                    "the countdown to tick",
                    |t| t.starts_with("in ") || t == "due now",
                )
                .await;
            assert!(!countdown.contains("UTC"), "{countdown}");
            assert_eq!(page.count("svg .msg-gap").await, 0, "no wait yet");

            // Five seconds on, the retry: its wait between the arrows.
            sys.let_time_pass(5).await;
            let gap = page
                .wait_for("the retry and its wait, shown live", || async {
                    if page.count("svg .seq-row").await != 2 {
                        return None;
                    }
                    page.text("svg .msg-gap").await
                })
                .await;
            assert_eq!(gap, "waited 5 s");

            // Clicking the second arrow opens the second message, and only it.
            assert!(!is_open(&page, 2).await);
            page.click("svg a.seq-row[data-seq=\"2\"]").await;
            page.wait_for("the second message to open", || async {
                is_open(&page, 2).await.then_some(())
            })
            .await;
            assert!(!is_open(&page, 1).await, "the first stays shut");
            assert!(
                page.path()
                    .await
                    .starts_with(&format!("/orders/{order_id}"))
            );
            let target = page.execute("return location.hash;").await;
            let anchor = page
                .attr("details[data-exchange=\"2\"]", "id")
                .await
                .unwrap();
            assert_eq!(target.as_str(), Some(format!("#{anchor}").as_str()));
            page.screenshot("store-order-diagram-arrow-opened").await;

            // A page opened afresh at an arrow's link opens that message too.
            let first = page
                .attr("details[data-exchange=\"1\"]", "id")
                .await
                .unwrap();
            page.goto(&format!("{store}/orders")).await;
            page.goto(&format!("{store}/orders/{order_id}#{first}"))
                .await;
            page.wait_for("the linked message to open on load", || async {
                is_open(&page, 1).await.then_some(())
            })
            .await;
            assert!(!is_open(&page, 2).await);
        })
        .await;
    drop(sys);
}
