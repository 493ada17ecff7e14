//! `/reference`: the inventory's OpenAPI document as a page, linked from
//! the navigation.

use crate::helpers::*;
use platform::testing::{assert_no_raw_markup, operation_cards};

#[tokio::test]
async fn the_reference_page_reads_the_document() {
    let inventory = spawn_inventory(platform::testing::TestBackend::Sqlite).await;
    let page = get(&inventory, "/reference").await;
    assert_eq!(page.status, 200);
    for needle in [
        "<h1>API reference</h1>",
        "<a href=\"/reference\" aria-current=\"page\">API</a>",
        "href=\"/openapi.json\"",
        "id=\"post-update-inventory\"",
        "<code>application/xml</code>: <a href=\"#schema-UpdateInventoryRequest\"><code>UpdateInventoryRequest</code></a>",
        "<code>inventory_key</code>",
        "<th scope=\"row\">409</th>",
        "<code>/webhooks/store</code>",
        "<code>webhook-signature</code>",
        "id=\"schema-Shortage\"",
    ] {
        page.assert_contains(needle);
    }
    assert_no_raw_markup(&page.body);
    let cards = operation_cards(&page.body);
    assert!(cards.len() > 10, "{} cards", cards.len());
    for card in &cards {
        assert!(
            card.contains("class=\"reference-example\""),
            "no example in {card}"
        );
        assert!(card.contains("curl -i "), "no curl in {card}");
    }
    let update = cards
        .iter()
        .find(|c| c.contains("id=\"post-update-inventory\""))
        .expect("the update_inventory card");
    let at = format!(
        "curl -i -X POST &#39;http://127.0.0.1:{}/update_inventory&#39;",
        inventory.port
    );
    for needle in [
        at.as_str(),
        "Authorization: Bearer &#60;inventory_key&#62;",
        "&#34;order_id&#34;: &#34;ord_",
        "&#34;on_hand&#34;: 38",
    ] {
        assert!(update.contains(needle), "expected {needle:?} in {update}");
    }
    // No webhooks section: the inventory sends none.
    assert!(!page.body.contains("id=\"webhooks\""));
    get(&inventory, "/")
        .await
        .assert_contains("<a href=\"/reference\">API</a>");
}
