//! `/reference`: the inventory's OpenAPI document as a page, linked from
//! the navigation.

use crate::helpers::*;

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
    // No webhooks section: the inventory sends none.
    assert!(!page.body.contains("id=\"webhooks\""));
    get(&inventory, "/")
        .await
        .assert_contains("<a href=\"/reference\">API</a>");
}
