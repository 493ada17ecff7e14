//! `GET /openapi.json`: the document parses, is OpenAPI 3.1, and describes
//! exactly the routes the inventory serves (see
//! `platform::openapi::coverage`).

use std::path::Path;

use platform::openapi::coverage::assert_document_matches_routes;
use platform::testing::TestBackend;

use crate::helpers::spawn_inventory;

#[tokio::test]
async fn the_document_describes_every_route_and_no_other() {
    let inventory = spawn_inventory(TestBackend::Sqlite).await;
    let response = inventory
        .client
        .get(inventory.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        document["openapi"]
    );
    assert!(document["paths"]["/webhooks/store"]["post"].is_object());
    let source = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    assert_document_matches_routes(&inventory.address, &document, &[source]).await;
}
