//! The capture inbox, `/inbox/{name}`: whatever arrives is kept as it
//! arrived and answered `200`; its page shows the raw bytes, the signature
//! laid out to check by hand, and the request as `curl`; it keeps a
//! bounded number; a bad name is a problem, not a capture.

use contract::signing::WebhookSecret;

use crate::helpers::*;

fn signed_xml(secret: &WebhookSecret) -> (Vec<u8>, String) {
    let body = b"<?xml version=\"1.0\"?><event><type>order.created</type><data><id>ord_1</id></data></event>".to_vec();
    (
        body.clone(),
        secret.sign("msg_inbox1", 1_700_000_000, &body),
    )
}

platform::db_test!(async fn whatever_arrives_is_kept_byte_for_byte_and_answered_200(backend) {
    let inv = spawn_inventory(backend).await;
    let secret = WebhookSecret::generate();
    let (body, signature) = signed_xml(&secret);
    let response = inv
        .client
        .post(inv.url("/inbox/xml-test"))
        .header("content-type", "application/xml")
        .header("webhook-id", "msg_inbox1")
        .header("webhook-timestamp", "1700000000")
        .header("webhook-signature", &signature)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert!(answer["captured"].as_str().unwrap().starts_with("cap_"), "{answer}");
    assert_eq!(answer["bytes"], body.len());

    // PUT and PATCH are kept too; another inbox sees none of it.
    for method in [reqwest::Method::PUT, reqwest::Method::PATCH] {
        let r = inv.client.request(method, inv.url("/inbox/xml-test")).body("x").send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    inv.get_page("/inbox/other").await.assert_contains("Nothing has arrived yet");

    let page = inv.get_page("/inbox/xml-test").await;
    assert_eq!(page.status, 200);
    page.assert_contains("data-captures=\"3\"");
    // The raw body, escaped for HTML but otherwise as it arrived.
    page.assert_contains(&escaped(std::str::from_utf8(&body).unwrap()));
    page.assert_contains("application/xml");
    // The signed bytes: id, timestamp and the raw body, and the signature
    // as sent; the body again as base64, for the page's own check.
    page.assert_contains(&escaped(&format!("msg_inbox1.1700000000.{}", std::str::from_utf8(&body).unwrap())));
    page.assert_contains(&format!("data-signature=\"{signature}\""));
    page.assert_contains(&format!("data-body=\"{}\"", base64_of(&body)));
    // And the request as curl, with the raw body.
    page.assert_contains("curl -sS -i -X POST");
    page.assert_contains("--data-binary");
});

platform::db_test!(async fn an_inbox_keeps_its_newest_captures_only(backend) {
    let inv = spawn_inventory(backend).await;
    let keep = inventory::instruments::inbox::KEEP_PER_INBOX;
    for n in 0..keep + 3 {
        let r = inv.client.post(inv.url("/inbox/busy")).body(format!("n={n}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let page = inv.get_page("/inbox/busy").await;
    page.assert_contains(&format!("data-captures=\"{keep}\""));
    page.assert_contains(&format!("n={}", keep + 2));
    // The first three are gone ("n=1" would also match n=10…, so look for
    // the exact body).
    page.assert_lacks("data-raw-body>n=0<");
    page.assert_lacks("data-raw-body>n=2<");
    page.assert_contains("data-raw-body>n=3<");
});

platform::db_test!(async fn a_bad_inbox_name_is_a_problem_and_keeps_nothing(backend) {
    let inv = spawn_inventory(backend).await;
    let name = "a".repeat(inventory::instruments::inbox::MAX_NAME_LEN + 1);
    let response = inv.client.post(inv.url(&format!("/inbox/{name}"))).body("x").send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox_captures")
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
});

/// As the pages write text: HTML-escaped.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

platform::db_test!(async fn the_index_lists_the_inboxes_and_opens_one_by_name(backend) {
    let inv = spawn_inventory(backend).await;
    let empty = inv.client.get(inv.url("/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(empty.contains("data-inboxes=\"0\""), "{empty}");

    for (inbox, n) in [("older", 1), ("newer", 2)] {
        for _ in 0..n {
            let r = inv.client.post(inv.url(&format!("/inbox/{inbox}"))).body("x").send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    let index = inv.client.get(inv.url("/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("data-inboxes=\"2\""), "{index}");
    let newer = index.find("data-inbox=\"newer\"").expect("newer listed");
    let older = index.find("data-inbox=\"older\"").expect("older listed");
    assert!(newer < older, "the most recently written first");
    assert!(index.contains("<a href=\"/inbox/newer\" class=\"mono\">newer</a></td><td>2</td>"), "{index}");

    // The field opens an inbox by name — a name, never a path.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let open = no_redirects.get(inv.url("/inbox?name=my-hooks")).send().await.unwrap();
    assert_eq!(open.status(), 303);
    assert_eq!(open.headers()["location"], "/inbox/my-hooks");
    let refused = no_redirects.get(inv.url("/inbox?name=..%2Fkeys")).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"inbox-name-error\">an inbox name is 1 to"), "{page}");
});
