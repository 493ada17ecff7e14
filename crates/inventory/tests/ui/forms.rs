//! The inventory's forms: restock, chaos, poller, keys.

use crate::helpers::*;

platform::db_test!(async fn stock_is_restocked_from_the_form(backend) {
    let inventory = spawn_inventory(backend).await;
    let done = post_form(&inventory, "/stock/restock", &[("sku", "POT-KYUSU"), ("quantity", "7")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/?notice=restocked"));
    assert_eq!(inventory.on_hand("POT-KYUSU").await, 3 + 7);
    let page = get(&inventory, "/?notice=restocked").await;
    page.assert_contains("Restocked.");
    page.assert_contains("data-on-hand=\"10\"");

    for (sku, quantity, field, message) in [
        ("POT-KYUSU", "0", "restock-quantity-error", "restock between 1 and 10000 units"),
        ("POT-KYUSU", "lots", "restock-quantity-error", "a whole number of units"),
        ("NO-SUCH-SKU", "5", "restock-sku-error", "there is no such SKU in stock"),
        ("<b>", "5", "restock-sku-error", "a SKU contains only letters"),
    ] {
        let page = post_form(&inventory, "/stock/restock", &[("sku", sku), ("quantity", quantity)]).await;
        assert_eq!(page.status, 422, "{sku} {quantity}");
        page.assert_contains(&format!("id=\"{field}\">{message}"));
        page.assert_contains(&format!("value=\"{quantity}\""));
        page.assert_lacks("<b>");
    }
    assert_eq!(inventory.on_hand("POT-KYUSU").await, 10, "refused restocks change nothing");
});

platform::db_test!(async fn chaos_is_switched_on_and_healed_from_the_form(backend) {
    let inventory = spawn_inventory(backend).await;
    let done = post_form(&inventory, "/chaos", &[("down", "on"), ("latency_ms", "250"), ("fail_next", "2"), ("action", "apply")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/chaos?notice=chaos"));
    let settings = inventory.state.ctx.chaos.settings();
    assert!(settings.down && !settings.reject_signatures);
    assert_eq!((settings.latency_ms, settings.fail_next), (250, 2));
    let page = get(&inventory, "/chaos").await;
    page.assert_contains("down (503 to everything), slow (+250 ms), failing the next 2");
    page.assert_contains("<input type=\"checkbox\" id=\"chaos-down\" name=\"down\" checked>");
    get(&inventory, "/").await.assert_contains("data-chaos=\"true\"");

    // The integration endpoints feel it; the pages do not.
    let r = reqwest::Client::new().post(inventory.url("/webhooks/store")).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 503);

    let refused = post_form(&inventory, "/chaos", &[("latency_ms", "9999999"), ("fail_next", "-1"), ("action", "apply")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"chaos-latency-error\"");
    refused.assert_contains("id=\"chaos-fail-error\"");
    refused.assert_contains("value=\"9999999\"");
    assert!(inventory.state.ctx.chaos.settings().down, "a refused form changes nothing");

    let healed = post_form(&inventory, "/chaos", &[("down", "on"), ("action", "heal")]).await;
    assert_eq!(healed.location.as_deref(), Some("/chaos?notice=healed"));
    assert_eq!(inventory.state.ctx.chaos.settings(), inventory::instruments::chaos::ChaosSettings::default());
    get(&inventory, "/chaos").await.assert_contains("all off: behaving normally");
});

platform::db_test!(async fn the_poller_is_paused_resumed_and_timed_from_the_form(backend) {
    let inventory = spawn_inventory(backend).await;
    let poller = || async { inventory::integration::poller::cursor::load(&inventory.state.ctx.db, inventory::integration::poller::Feed::Poll).await.unwrap() };

    let done = post_form(&inventory, "/poller", &[("action", "interval"), ("interval_s", "0.5")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/poller?notice=poller"));
    assert_eq!(poller().await.interval_ms, 500);

    let refused = post_form(&inventory, "/poller", &[("action", "interval"), ("interval_s", "0.1")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"poll-interval-error\">an interval in seconds, from 0.25 to 3600");
    refused.assert_contains("value=\"0.1\"");
    assert_eq!(poller().await.interval_ms, 500);

    // Long polling, switched on and off from the form.
    let on = post_form(&inventory, "/poller", &[("action", "long_poll"), ("wait_s", "10")]).await;
    assert_eq!(on.status, 303);
    assert_eq!(poller().await.wait_ms, 10_000);
    get(&inventory, "/poller").await.assert_contains("<option value=\"10\" selected>hold up to 10 s</option>");
    let refused = post_form(&inventory, "/poller", &[("action", "long_poll"), ("wait_s", "99")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"poll-wait-error\">off, or 1 to 30 seconds");
    assert_eq!(poller().await.wait_ms, 10_000);
    post_form(&inventory, "/poller", &[("action", "long_poll"), ("wait_s", "0")]).await;
    assert_eq!(poller().await.wait_ms, 0);

    // From the store's settings page, the browser is sent back there.
    let resumed = post_form(&inventory, "/poller", &[("action", "resume"), ("back", "store")]).await;
    assert_eq!(resumed.location.as_deref(), Some(&*format!("{STORE}/settings?notice=poller#poller")));
    assert!(!poller().await.paused);
    // Never anywhere else.
    let paused = post_form(&inventory, "/poller", &[("action", "pause"), ("back", "https://evil.example/")]).await;
    assert_eq!(paused.location.as_deref(), Some("/poller?notice=poller"));
    assert!(poller().await.paused);

    // Poll now, with no store to ask: the page says it failed.
    let polled = post_form(&inventory, "/poller/poll-now", &[]).await;
    assert_eq!(polled.location.as_deref(), Some("/poller?notice=poll-failed"));
    get(&inventory, "/poller?notice=poll-failed").await.assert_contains("The poll failed");
    get(&inventory, "/messages?channel=feed").await.assert_contains("failed: ");
    get(&inventory, "/poller?notice=polled&requests=2&empty=1&applied=1").await
        .assert_contains("Polled now: 2 requests to the store, 1 found nothing new, 1 order applied.");
    get(&inventory, "/poller?notice=polled&requests=1&empty=0&applied=3").await
        .assert_contains("Polled now: 1 request to the store, 0 found nothing new, 3 orders applied.");
});

platform::db_test!(async fn the_reconciliation_is_paused_resumed_timed_and_run_from_the_form(backend) {
    let inventory = spawn_inventory(backend).await;
    let reconciler = || async { inventory::integration::poller::cursor::load(&inventory.state.ctx.db, inventory::integration::poller::Feed::Reconcile).await.unwrap() };
    assert!(reconciler().await.paused, "paused in tests: no store to read");

    let timed = post_form(&inventory, "/poller/reconciliation", &[("action", "interval"), ("interval_s", "30")]).await;
    assert_eq!(timed.status, 303);
    assert_eq!(timed.location.as_deref(), Some("/poller?notice=reconciler#reconciliation"));
    assert_eq!(reconciler().await.interval_ms, 30_000);
    let refused = post_form(&inventory, "/poller/reconciliation", &[("action", "interval"), ("interval_s", "0")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"reconcile-interval-error\">an interval in seconds, from 0.25 to 3600");
    assert_eq!(reconciler().await.interval_ms, 30_000);

    post_form(&inventory, "/poller/reconciliation", &[("action", "resume")]).await;
    assert!(!reconciler().await.paused);
    get(&inventory, "/poller").await.assert_contains("reconciling</span> every 30 s.");
    post_form(&inventory, "/poller/reconciliation", &[("action", "pause")]).await;
    assert!(reconciler().await.paused);
    // The poller's own settings are not touched.
    let poller = inventory::integration::poller::cursor::load(&inventory.state.ctx.db, inventory::integration::poller::Feed::Poll).await.unwrap();
    assert_ne!(poller.interval_ms, 30_000);

    // Now, with no store to read: the page says it failed.
    let now = post_form(&inventory, "/poller/reconciliation", &[("action", "now")]).await;
    assert_eq!(now.location.as_deref(), Some("/poller?notice=reconcile-failed#reconciliation"));
    get(&inventory, "/poller?notice=reconcile-failed").await.assert_contains("The reconciliation failed");
});

platform::db_test!(async fn api_keys_are_created_once_and_revoked(backend) {
    let inventory = spawn_inventory(backend).await;
    let created = post_form(&inventory, "/keys", &[("label", "<script>staging</script>")]).await;
    assert_eq!(created.status, 200);
    let start = created.body.find("<code id=\"new-key\">").expect("the key, once") + "<code id=\"new-key\">".len();
    let key = created.body[start..start + created.body[start..].find('<').unwrap()].to_owned();
    assert!(key.starts_with("pp_") && key.len() > 20, "{key}");
    created.assert_lacks("<script>staging");
    created.assert_contains("&#60;script&#62;staging&#60;/script&#62;");
    assert!(inventory.state.api_keys.is_valid(&inventory.state.ctx.db, inventory.state.ctx.clock.now(), &key).await.unwrap());

    let later = get(&inventory, "/keys").await;
    later.assert_lacks(&key);
    later.assert_contains(&platform::redact::secret(&key));

    let refused = post_form(&inventory, "/keys", &[("label", "   ")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"key-label-error\"");
    // A label is human text (no hidden characters that would make the list
    // lie to whoever reads it); the reason sits beside it.
    let keys = inventory::keys::list(&inventory.state.ctx.db).await.unwrap().len();
    let refused = post_form(&inventory, "/keys", &[("label", "ci \u{2066}prod\u{2069}")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"key-label-error\">a label cannot contain U+2066, an invisible formatting character");
    assert_eq!(inventory::keys::list(&inventory.state.ctx.db).await.unwrap().len(), keys, "no key was created");

    let id = inventory::keys::list(&inventory.state.ctx.db).await.unwrap().into_iter().find(|k| k.hint == platform::redact::secret(&key)).unwrap().id;
    let revoked = post_form(&inventory, &format!("/keys/{id}/revoke"), &[]).await;
    assert_eq!(revoked.location.as_deref(), Some("/keys?notice=revoked"));
    assert!(!inventory.state.api_keys.is_valid(&inventory.state.ctx.db, inventory.state.ctx.clock.now(), &key).await.unwrap());
    get(&inventory, "/keys?notice=revoked").await.assert_contains("<span class=\"badge tone-muted\">revoked</span>");
    let again = post_form(&inventory, &format!("/keys/{id}/revoke"), &[]).await;
    assert_eq!(again.status, 404);
    assert!(again.content_type.starts_with("text/html"));
});
