//! `/reference`: the store's OpenAPI document as a page — every operation,
//! the webhooks the store sends, the problems, the schemas — linked from
//! the navigation and from the tour's data-format step.

use crate::helpers::*;

#[tokio::test]
async fn the_reference_page_reads_the_document() {
    let store = spawn_store(platform::testing::TestBackend::Sqlite, |_| {}).await;
    let page = get(&store, "/reference").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    for needle in [
        "<h1>API reference</h1>",
        "<a href=\"/reference\" aria-current=\"page\">API</a>",
        "href=\"/openapi.json\"",
        // An operation, its parameter, body and answers.
        "id=\"post-api-orders\"",
        "<code>/api/orders/{id}/acknowledgement</code>",
        "<code>Idempotency-Key</code>",
        "<code>application/json</code>: <a href=\"#schema-NewOrder\"><code>NewOrder</code></a>",
        "<th scope=\"row\">422</th>",
        // The descriptions' `code spans` set as code; the shared answers
        // named once per operation and listed under Problems.
        "(<code>Idempotent-Replayed: true</code>)",
        "<a href=\"#problem-BodyTooLarge\">413 BodyTooLarge</a>",
        "<tr id=\"problem-BodyTooLarge\">",
        "<code>feed_key</code>",
        "<code>operator (if set)</code>",
        // The other direction: the events the store pushes.
        "<h2 id=\"webhooks\">Webhooks this service sends</h2>",
        "<code>order.created</code>",
        "<code>webhook-signature</code>",
        "<code>application/xml</code>",
        "<th scope=\"row\">410</th>",
        "<code>Retry-After</code>",
        // Shared problems and the schemas, as tables.
        "<td>HeadersTooLarge</td>",
        "<th scope=\"row\">405</th>",
        "id=\"schema-Order\"",
        "<code>pending</code>, <code>confirmed</code>",
    ] {
        page.assert_contains(needle);
    }
    // Linked from every page's navigation and from the tour.
    get(&store, "/")
        .await
        .assert_contains("<a href=\"/reference\">API</a>");
    get(&store, "/tour")
        .await
        .assert_contains("<a href=\"/reference#webhooks\">webhooks</a>");
}
