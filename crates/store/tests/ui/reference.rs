//! `/reference`: the store's OpenAPI document as a page — every operation,
//! the webhooks the store sends, the problems, the schemas — linked from
//! the navigation and from the tour's data-format step.

use crate::helpers::*;
use platform::testing::{assert_no_raw_markup, operation_cards};

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
    // Descriptions are read as Markdown: a multi-paragraph doc comment
    // becomes paragraphs, and no rustdoc markup shows raw.
    assert_no_raw_markup(&page.body);
    // An intra-doc link (``[`MAX_ACKNOWLEDGEMENTS`]``) is a code span.
    page.assert_contains("page size (<code>MAX_ACKNOWLEDGEMENTS</code>) items.");
    // Every operation card has its example: a `curl` aimed at this very
    // store for a path, the body it sends for a webhook; and the answer.
    let cards = operation_cards(&page.body);
    assert!(cards.len() > 20, "{} cards", cards.len());
    for card in &cards {
        assert!(
            card.contains("class=\"reference-example\""),
            "no example in {card}"
        );
        assert!(
            card.contains("curl -i ") || card.contains("The JSON body this service sends"),
            "no request in {card}"
        );
    }
    let place = cards
        .iter()
        .find(|c| c.contains("id=\"post-api-orders\""))
        .expect("the place-order card");
    let at = format!(
        "curl -i -X POST &#39;http://127.0.0.1:{}/api/orders&#39;",
        store.port
    );
    for needle in [
        at.as_str(),
        "-H &#39;Content-Type: application/json&#39;",
        // The example a person wrote, not one made up from the schema.
        "&#34;sku&#34;: &#34;TEA-SENCHA&#34;",
        "Answer, <strong>201</strong>",
    ] {
        assert!(place.contains(needle), "expected {needle:?} in {place}");
    }
    let feed = cards
        .iter()
        .find(|c| c.contains("id=\"get-api-orders\""))
        .expect("the feed card");
    assert!(
        feed.contains("Authorization: Bearer &#60;feed_key&#62;"),
        "{feed}"
    );
    let created = cards
        .iter()
        .find(|c| c.contains("id=\"post-order-created\""))
        .expect("the order.created card");
    assert!(
        created.contains("&#34;type&#34;: &#34;order.created&#34;"),
        "{created}"
    );
    // Linked from every page's navigation and from the tour.
    get(&store, "/")
        .await
        .assert_contains("<a href=\"/reference\">API</a>");
    get(&store, "/tour")
        .await
        .assert_contains("<a href=\"/reference#webhooks\">webhooks</a>");
}
