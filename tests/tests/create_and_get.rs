//! create and get through real API Gateway events, DynamoDB Local underneath.

use e2e::*;
use event_core::model::{AlertState, WebhookFormat, WebhookState};
use event_core::service::webhooks::{IssuedKey, NewWebhook};
use event_core::service::App;
use event_core::store::{EventRange, RawData};
use serde_json::{json, Value};

async fn post_event(
    app: &event_core::service::App,
    gateway: Gateway,
    path: &str,
    body: &str,
) -> (u16, Value) {
    let req = ApiEvent::new(gateway, "create").route("POST", path).body(body).request();
    parts(event_create::handle(app, req).await)
}

async fn stored(app: &event_core::service::App, domain_id: &str) -> Vec<event_core::model::Event> {
    app.store.query_events(&EventRange::domain(&trusted(domain_id))).await.unwrap()
}

/// Seed 001's get response, less what the service generates (ids and times).
fn without_generated(mut event: Value) -> Value {
    for key in ["event_id", "alert_id", "webhook_id", "created_at", "occurred_at", "workspace_id"] {
        event.as_object_mut().unwrap().remove(key);
    }
    event
}

#[tokio::test]
async fn seed_payloads_are_stored_and_read_back_as_seed_001_shows() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    for (gateway, fixture_name) in [
        (Gateway::Rest, "standard/bastion-ssh-spaceoneadm.json"),
        (Gateway::Http, "standard/bastion-ssh-glee.json"),
    ] {
        let (status, body) = post_event(&app, gateway, &webhook_path(&key), &fixture(fixture_name)).await;
        assert_eq!((status, body), (200, json!({})));
    }
    let events = stored(&app, DOMAIN).await;
    assert_eq!(events.len(), 2);
    let spaceoneadm = events.iter().find(|e| e.description.ends_with("spaceoneadm")).unwrap();

    for gateway in GATEWAYS {
        let by_path = ApiEvent::new(gateway, "get")
            .route("GET", &format!("/monitoring/v1/event/{}", spaceoneadm.event_id))
            .query(&[("domain_id", DOMAIN)])
            .request();
        let (status, got) = parts(event_get::handle(&app, by_path).await);
        assert_eq!(status, 200, "{got}");
        let expected = json!({
            "event_key": "cfbdd0cee08f0f2664dbef297c370017",
            "event_type": "ALERT",
            "title": "Notification of access to the SpaceONE bastion Host",
            "description": "SSH Access to stargate-dev-kubectl-amzl2 from spaceoneadm",
            "severity": "INFO",
            "rule": "", "provider": "", "account": "", "image_url": "",
            "resource": {"resource_id": "server-1187737cc0d9", "resource_type": "inventory.Server", "name": "stargate-dev-kubectl-amzl2"},
            "raw_data": serde_json::from_str::<Value>(&fixture("standard/bastion-ssh-spaceoneadm.json")).unwrap(),
            "additional_info": {"host": "[]", "user": "spaceoneadm"},
            "project_id": PROJECT,
            "domain_id": DOMAIN,
        });
        assert_eq!(without_generated(got.clone()), expected);
        assert_eq!(got["webhook_id"], json!(key.webhook.webhook_id));
        assert!(got["alert_id"].as_str().unwrap().starts_with("alert-"));
        assert!(got["event_id"].as_str().unwrap().starts_with("event-"));
        let created = got["created_at"].as_str().unwrap();
        assert_eq!(created.len(), "2022-06-21T00:34:58.034Z".len(), "{created}");

        let by_body = ApiEvent::new(gateway, "get")
            .route("POST", "/monitoring/v1/event/get")
            .body(&json!({"event_id": spaceoneadm.event_id, "domain_id": DOMAIN, "only": ["event_id", "severity"]}).to_string())
            .request();
        let (status, got) = parts(event_get::handle(&app, by_body).await);
        assert_eq!((status, got), (200, json!({"event_id": spaceoneadm.event_id, "severity": "INFO"})));
    }
    let glee = events.iter().find(|e| e.description.ends_with("glee@mz.co.kr")).unwrap();
    assert_eq!(glee.additional_info["host"], "['125.131.104.40']");
}

#[tokio::test]
async fn webhook_checks_refuse_unknown_ids_wrong_keys_and_disabled_webhooks() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = fixture("standard/bastion-ssh-glee.json");
    let id = &key.webhook.webhook_id;
    for gateway in GATEWAYS {
        // An unknown webhook and a wrong key answer alike: existence does not leak.
        let (status, unknown) =
            post_event(&app, gateway, "/monitoring/v1/webhook/webhook-000000000000/k/events", &body).await;
        assert_eq!((status, error_code(status, &unknown).as_str()), (403, "ERROR_PERMISSION_DENIED"));
        let (status, wrong) =
            post_event(&app, gateway, &format!("/monitoring/v1/webhook/{id}/wrong/events"), &body).await;
        assert_eq!((status, error_code(status, &wrong).as_str()), (403, "ERROR_PERMISSION_DENIED"));
        let message = |body: &Value, webhook_id: &str| {
            body["error"]["message"].as_str().unwrap().replace(webhook_id, "")
        };
        assert_eq!(message(&unknown, "webhook-000000000000"), message(&wrong, id));
    }
    app.store.set_webhook_state(id, WebhookState::Disabled).await.unwrap();
    let (status, err) = post_event(&app, Gateway::Rest, &webhook_path(&key), &body).await;
    assert_eq!((status, error_code(status, &err).as_str()), (400, "ERROR_WEBHOOK_STATE_DISABLED"));
    // Without the key, a disabled webhook looks like any other: the key is checked first.
    let (status, _) =
        post_event(&app, Gateway::Rest, &format!("/monitoring/v1/webhook/{id}/wrong/events"), &body).await;
    assert_eq!(status, 403);
    assert!(stored(&app, DOMAIN).await.is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_json_is_kept_as_an_error_event_and_an_empty_one_is_refused() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let (status, err) = post_event(&app, Gateway::Http, &webhook_path(&key), " ").await;
    assert_eq!((status, error_code(status, &err).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let huge = format!("x{}", "y".repeat(100_000));
    for body in ["not json", "{\"title\": ", deep.as_str(), huge.as_str()] {
        let (status, body_back) = post_event(&app, Gateway::Http, &webhook_path(&key), body).await;
        assert_eq!(status, 200, "{body_back}");
    }
    let events = stored(&app, DOMAIN).await;
    assert_eq!(events.len(), 4, "one ERROR event per unreadable body");
    for event in &events {
        assert_eq!(event.event_type.as_str(), "ERROR");
        assert!(event.description.contains("not valid JSON"), "{}", event.description);
        let kept = event.raw_data["body"].as_str().unwrap();
        assert!(kept.len() <= 64 * 1024, "bounded: {}", kept.len());
    }
    assert!(events.iter().any(|e| e.description.contains("deeper than 128")));
    assert!(events.iter().any(|e| e.raw_data["body_bytes"] == json!(100_001)));
}

#[tokio::test]
async fn json_the_format_cannot_read_becomes_one_error_event() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let (status, _) = post_event(&app, Gateway::Rest, &webhook_path(&key), r#"{"unexpected": [1, 2]}"#).await;
    assert_eq!(status, 200);
    let events = stored(&app, DOMAIN).await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!((e.event_type.as_str(), e.severity.as_str()), ("ERROR", "CRITICAL"));
    assert_eq!(e.title, "Webhook Event Parsing Error - bastion");
    assert!(e.description.contains("'title'"), "{}", e.description);
    assert_eq!(e.raw_data, json!({"unexpected": [1, 2]}));
    let alert = app.store.get_alert(&trusted(DOMAIN), &e.alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state, AlertState::Error);
}

#[tokio::test]
async fn raw_data_beyond_dynamodb_limits_is_stored_whole() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    // 100 levels (DynamoDB maps stop at 32), a 40-digit number, and ~700 KB of text
    // (an item holds 400 KB).
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({"next": deep});
    }
    let big = "x".repeat(700 * 1024);
    let body = format!(
        r#"{{"title": "huge", "event_key": "k-huge", "additional_info": {{"n": 1234567890123456789012345678901234567890}}, "deep": {deep}, "big": "{big}"}}"#
    );
    let (status, resp) = post_event(&app, Gateway::Http, &webhook_path(&key), &body).await;
    assert_eq!(status, 200, "{resp}");
    let event = stored(&app, DOMAIN).await.remove(0);
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event.raw_data, sent);
    assert_eq!(event.additional_info["n"], "1234567890123456789012345678901234567890");
    let got = app.store.get_event(&trusted(DOMAIN), &event.event_id, RawData::Read).await.unwrap().unwrap();
    assert_eq!(got.raw_data["big"].as_str().unwrap().len(), big.len());

    // Past MAX_BODY_BYTES the body is not refused (a sender drops a 413): one ERROR
    // event keeps its head and size.
    let too_big = format!(r#"{{"title": "t", "big": "{}"}}"#, "y".repeat(app.config.max_body_bytes));
    let (status, resp) = post_event(&app, Gateway::Http, &webhook_path(&key), &too_big).await;
    assert_eq!(status, 200, "{resp}");
    let kept = stored(&app, DOMAIN).await.into_iter().find(|e| e.event_type.as_str() == "ERROR").unwrap();
    assert!(kept.description.contains("MAX_BODY_BYTES"), "{}", kept.description);
    assert_eq!(kept.raw_data["body_bytes"], json!(too_big.len()));
    assert!(too_big.starts_with(kept.raw_data["body"].as_str().unwrap()));
}

#[tokio::test]
async fn get_checks_the_domain_before_reading_any_raw_data_chunk() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = json!({"title": "big", "event_key": "big", "big": "z".repeat(600 * 1024)}).to_string();
    assert_eq!(post_event(&app, Gateway::Http, &webhook_path(&key), &body).await.0, 200);
    let event_id = stored(&app, DOMAIN).await.remove(0).event_id;
    // With a chunk gone, a read that touched the chunks would fail; another domain's
    // read must not get that far.
    dynamodb()
        .delete_item()
        .table_name(&app.config.tables.events)
        .key("event_id", aws_sdk_dynamodb::types::AttributeValue::S(first_chunk(&app, &event_id).await))
        .send()
        .await
        .unwrap();
    assert_eq!(app.store.get_event(&trusted("domain-other"), &event_id, RawData::Read).await.unwrap(), None);
    let path = format!("/monitoring/v1/event/{event_id}");
    let req = ApiEvent::new(Gateway::Rest, "get")
        .route("GET", &path)
        .query(&[("domain_id", "domain-other")])
        .request();
    let (status, err) = parts(event_get::handle(&app, req).await);
    assert_eq!((status, error_code(status, &err).as_str()), (404, "ERROR_NOT_FOUND"));
}

#[tokio::test]
async fn a_list_payload_stores_every_event() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = json!({"events": [{"title": "a", "event_key": "a"}, {"title": "b", "event_key": "b"}, {"title": "c"}]});
    let (status, _) = post_event(&app, Gateway::Rest, &webhook_path(&key), &body.to_string()).await;
    assert_eq!(status, 200);
    let mut titles: Vec<_> = stored(&app, DOMAIN).await.into_iter().map(|e| e.title).collect();
    titles.sort();
    assert_eq!(titles, ["a", "b", "c"]);
}

#[tokio::test]
async fn recovery_resolves_the_open_alert_and_a_new_alert_follows() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let send = |n: usize, event_type: &str| {
        json!({"title": "disk full", "event_key": "disk-1", "event_type": event_type, "description": format!("report {n}")})
            .to_string()
    };
    for (n, event_type) in ["ALERT", "ALERT", "RECOVERY", "ALERT"].into_iter().enumerate() {
        let (status, _) = post_event(&app, Gateway::Rest, &webhook_path(&key), &send(n, event_type)).await;
        assert_eq!(status, 200);
    }
    let mut events = stored(&app, DOMAIN).await;
    events.reverse(); // oldest first
    let alerts: Vec<&str> = events.iter().map(|e| e.alert_id.as_str()).collect();
    assert_eq!(alerts[0], alerts[1], "a repeat joins the open alert");
    assert_eq!(alerts[1], alerts[2], "the recovery is linked to the alert it resolves");
    assert_ne!(alerts[2], alerts[3], "after recovery the key opens a new alert");
    let first = app.store.get_alert(&trusted(DOMAIN), alerts[0]).await.unwrap().unwrap();
    assert_eq!(first.state, AlertState::Resolved);
    assert_eq!(first.resolved_at, events[2].created_at);
    assert_eq!(first.updated_at, events[2].created_at);
    assert_eq!(first.description, "report 1", "the newest event's; a recovery leaves it");
    assert_eq!(app.store.get_alert(&trusted("domain-other"), alerts[0]).await.unwrap(), None);
    let second = app.store.get_alert(&trusted(DOMAIN), alerts[3]).await.unwrap().unwrap();
    assert_eq!(second.state, AlertState::Triggered);
}

#[tokio::test]
async fn a_recovery_with_nothing_open_is_kept_unlinked() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = json!({"title": "ok again", "event_key": "never-fired", "event_type": "RECOVERY"}).to_string();
    assert_eq!(post_event(&app, Gateway::Rest, &webhook_path(&key), &body).await.0, 200);
    let events = stored(&app, DOMAIN).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].alert_id, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_deliveries_of_a_new_key_open_one_alert() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let path = webhook_path(&key);
    let mut deliveries = tokio::task::JoinSet::new();
    for n in 0..10 {
        // Ten different reports of one new problem, at once.
        let body = json!({"title": "cpu", "event_key": "cpu-race", "description": format!("sample {n}")})
            .to_string();
        let (app, path) = (app.clone(), path.clone());
        deliveries.spawn(async move { post_event(&app, Gateway::Http, &path, &body).await.0 });
    }
    while let Some(status) = deliveries.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let events = stored(&app, DOMAIN).await;
    assert_eq!(events.len(), 10);
    let first = &events[0].alert_id;
    assert!(events.iter().all(|e| &e.alert_id == first), "every delivery joined one alert");
}

#[tokio::test]
async fn reads_never_cross_domains() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = fixture("standard/bastion-ssh-glee.json");
    assert_eq!(post_event(&app, Gateway::Rest, &webhook_path(&key), &body).await.0, 200);
    let event_id = stored(&app, DOMAIN).await.remove(0).event_id;
    let path = format!("/monitoring/v1/event/{event_id}");
    for gateway in GATEWAYS {
        let other = ApiEvent::new(gateway, "get")
            .route("GET", &path)
            .query(&[("domain_id", "domain-other")])
            .request();
        let (status, err) = parts(event_get::handle(&app, other).await);
        assert_eq!(
            (status, error_code(status, &err).as_str()),
            (404, "ERROR_NOT_FOUND"),
            "another domain's event is not found"
        );

        let claimed = ApiEvent::new(gateway, "get")
            .route("GET", &path)
            .query(&[("domain_id", DOMAIN)])
            .claims_domain("domain-other")
            .request();
        let (status, err) = parts(event_get::handle(&app, claimed).await);
        assert_eq!(
            (status, error_code(status, &err).as_str()),
            (403, "ERROR_PERMISSION_DENIED"),
            "naming a domain the identity lacks"
        );

        let own =
            ApiEvent::new(gateway, "get").route("GET", &path).query(&[]).claims_domain(DOMAIN).request();
        assert_eq!(
            parts(event_get::handle(&app, own).await).0,
            200,
            "the identity's domain needs no parameter"
        );

        let anonymous = ApiEvent::new(gateway, "get").route("GET", &path).query(&[]).request();
        let (status, err) = parts(event_get::handle(&app, anonymous).await);
        assert_eq!((status, error_code(status, &err).as_str()), (400, "ERROR_REQUIRED_PARAMETER"));
    }
}

#[tokio::test]
async fn requests_to_the_wrong_function_or_method_are_client_errors() {
    let app = app().await;
    let req = ApiEvent::new(Gateway::Rest, "get").route("DELETE", "/monitoring/v1/event/event-1").request();
    let (status, err) = parts(event_get::handle(&app, req).await);
    assert_eq!((status, error_code(status, &err).as_str()), (405, "ERROR_METHOD_NOT_ALLOWED"));
    let req =
        ApiEvent::new(Gateway::Http, "get").route("POST", "/monitoring/v1/event/list").body("{}").request();
    assert_eq!(parts(event_get::handle(&app, req).await).0, 404);
    let req =
        ApiEvent::new(Gateway::Http, "get").route("POST", "/monitoring/v1/event/get").body("[1]").request();
    let (status, err) = parts(event_get::handle(&app, req).await);
    assert_eq!((status, error_code(status, &err).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    let body =
        json!({"event_id": "event-4e16ba3bd384", "domain_id": DOMAIN, "only": ["title", ""]}).to_string();
    let req =
        ApiEvent::new(Gateway::Http, "get").route("POST", "/monitoring/v1/event/get").body(&body).request();
    let (status, err) = parts(event_get::handle(&app, req).await);
    assert_eq!(
        (status, error_code(status, &err).as_str()),
        (400, "ERROR_INVALID_ARGUMENT"),
        "an empty name is no field"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_deliveries_of_one_payload_store_it_once() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let path = webhook_path(&key);
    let body =
        json!({"events": [{"title": "a", "event_key": "a"}, {"title": "b", "event_key": "b"}]}).to_string();
    let mut deliveries = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (app, path, body) = (app.clone(), path.clone(), body.clone());
        deliveries.spawn(async move { post_event(&app, Gateway::Http, &path, &body).await });
    }
    while let Some(result) = deliveries.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!((status, body), (200, json!({})), "every delivery is answered like the original");
    }
    let mut titles: Vec<_> = stored(&app, DOMAIN).await.into_iter().map(|e| e.title).collect();
    titles.sort();
    assert_eq!(titles, ["a", "b"]);
}

#[tokio::test]
async fn an_idempotency_key_names_the_delivery() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let send = |idempotency_key: &str, title: &str| {
        let req = ApiEvent::new(Gateway::Rest, "create")
            .route("POST", &webhook_path(&key))
            .header("Idempotency-Key", idempotency_key)
            .body(&json!({"title": title}).to_string())
            .request();
        let app = app.clone();
        async move { parts(event_create::handle(&app, req).await).0 }
    };
    assert_eq!(send("delivery-1", "first").await, 200);
    assert_eq!(send("delivery-1", "first").await, 200);
    assert_eq!(send("delivery-2", "first").await, 200);
    // A key is bound to its payload (as the IETF Idempotency-Key draft has it): the same
    // key with other bytes is another delivery, never dropped as a resend.
    assert_eq!(send("delivery-1", "second, under the first one's key").await, 200);
    let mut titles: Vec<_> = stored(&app, DOMAIN).await.into_iter().map(|e| e.title).collect();
    titles.sort();
    assert_eq!(
        titles,
        ["first", "first", "second, under the first one's key"],
        "same key and body stored once; a new key is a new delivery"
    );
}

#[tokio::test]
async fn redeliveries_are_recognised_only_within_the_window() {
    let app = app_with(|c| c.dedup_window_hours = 1).await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let claim = |now: i64| app.store.claim_delivery(&key.webhook.webhook_id, "change:x", now, 3600);
    let event_core::store::Claim::New(first) = claim(1_000_000).await.unwrap() else { panic!("first claim") };
    assert!(
        matches!(claim(1_000_001).await.unwrap(), event_core::store::Claim::InFlight(_)),
        "pending, fresh"
    );
    // The owner died: after the stale threshold another delivery may take over.
    assert!(matches!(claim(1_000_100).await.unwrap(), event_core::store::Claim::New(_)));
    app.store.release_delivery(&first).await; // a stale owner cannot release the new claim
    assert!(matches!(claim(1_000_101).await.unwrap(), event_core::store::Claim::InFlight(_)));
    // Past the window the marker no longer counts, even before TTL removes it.
    assert!(matches!(claim(1_000_100 + 3601).await.unwrap(), event_core::store::Claim::New(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alertmanager_peers_and_repeated_group_alerts_store_each_change_once() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    let path = webhook_path(&key);
    let grouped: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    // An HA pair: the same alerts, each peer naming itself in externalURL.
    let mut peer = grouped.clone();
    peer["externalURL"] = json!("http://alertmanager-1.monitoring:9093");
    let mut deliveries = tokio::task::JoinSet::new();
    for body in [&grouped, &peer].repeat(10) {
        let (app, path, body) = (app.clone(), path.clone(), body.to_string());
        deliveries.spawn(async move { post_event(&app, Gateway::Http, &path, &body).await });
    }
    while let Some(result) = deliveries.join_next().await {
        assert_eq!(result.unwrap(), (200, json!({})));
    }
    assert_eq!(stored(&app, DOMAIN).await.len(), 2, "both peers' copies count once");

    // The group's next notification repeats both still-firing alerts beside a new one
    // (prometheus/alertmanager#1642): only the new one is stored.
    let mut next = grouped.clone();
    let mut third = next["alerts"][0].clone();
    third["labels"]["device"] = json!("/dev/sdc1");
    third["fingerprint"] = json!("0123456789abcdef");
    next["alerts"].as_array_mut().unwrap().push(third);
    assert_eq!(post_event(&app, Gateway::Rest, &path, &next.to_string()).await, (200, json!({})));
    let mut devices: Vec<_> =
        stored(&app, DOMAIN).await.into_iter().map(|e| e.additional_info["device"].clone()).collect();
    devices.sort();
    assert_eq!(devices, ["/dev/sda1", "/dev/sdb1", "/dev/sdc1"]);
}

async fn post_with_authorization(
    app: &event_core::service::App,
    path: &str,
    authorization: &str,
    body: &str,
) -> u16 {
    let mut event = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(body);
    event.event["headers"]["authorization"] = json!(authorization);
    parts(event_create::handle(app, event.request()).await).0
}

#[tokio::test]
async fn the_access_key_can_travel_in_the_authorization_header_instead_of_the_url() {
    use base64::Engine as _;
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let path = format!("/monitoring/v1/webhook/{}/_/events", key.webhook.webhook_id);
    let body = |title: &str| json!({"title": title, "event_key": title}).to_string();
    let basic = |password: &str| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("sns:{password}")))
    };
    assert_eq!(
        post_with_authorization(&app, &path, &format!("Bearer {}", key.access_key), &body("a")).await,
        200
    );
    assert_eq!(post_with_authorization(&app, &path, &basic(&key.access_key), &body("b")).await, 200);
    assert_eq!(post_with_authorization(&app, &path, "Bearer wrong", &body("c")).await, 403);
    assert_eq!(post_with_authorization(&app, &path, &basic("wrong"), &body("d")).await, 403);
    assert_eq!(post_event(&app, Gateway::Rest, &path, &body("e")).await.0, 403, "no header, no key");
    let titles: Vec<String> = stored(&app, DOMAIN).await.into_iter().map(|e| e.title).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
}

#[tokio::test]
async fn a_rotated_key_keeps_working_for_its_grace_period_only() {
    use event_core::service::webhooks::rotate_key;
    let app = app().await;
    let first = webhook(&app, WebhookFormat::Standard).await;
    let id = first.webhook.webhook_id.clone();
    let body = json!({"title": "t", "event_key": "k"}).to_string();
    let path = |key: &str| format!("/monitoring/v1/webhook/{id}/{key}/events");

    let second = rotate_key(&app.store, &id, chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(post_event(&app, Gateway::Http, &path(&first.access_key), &body).await.0, 200, "in grace");
    assert_eq!(post_event(&app, Gateway::Http, &path(&second.access_key), &body).await.0, 200);

    let third = rotate_key(&app.store, &id, chrono::Duration::zero()).await.unwrap();
    assert_eq!(post_event(&app, Gateway::Http, &path(&second.access_key), &body).await.0, 403, "no grace");
    assert_eq!(post_event(&app, Gateway::Http, &path(&first.access_key), &body).await.0, 403);
    assert_eq!(post_event(&app, Gateway::Http, &path(&third.access_key), &body).await.0, 200);
}

#[tokio::test]
async fn a_webhook_over_its_rate_limit_answers_503_with_retry_after_and_others_go_on() {
    let app = app().await;
    let limited = webhook_from(
        &app,
        NewWebhook {
            max_deliveries_per_minute: Some(3),
            count_requests: false,
            ..new_webhook(WebhookFormat::Standard, DOMAIN, PROJECT)
        },
    )
    .await;
    let other = webhook(&app, WebhookFormat::Standard).await;
    let deliver = |key: &IssuedKey, n: usize| {
        let body = json!({"title": "cpu", "event_key": format!("cpu-{n}")}).to_string();
        let req =
            ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(key)).body(&body).request();
        let app = app.clone();
        async move { event_create::handle(&app, req).await }
    };
    let mut answers = Vec::new();
    for n in 0..5 {
        answers.push(deliver(&limited, n).await);
    }
    // A minute may turn between two deliveries: then one more gets through.
    let refused: Vec<_> = answers.into_iter().filter(|r| r.status() != 200).collect();
    let accepted = 5 - refused.len();
    assert!((3..=4).contains(&accepted), "{accepted} accepted");
    for response in refused {
        assert_eq!(response.status(), 503);
        let retry_after: u32 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let (_, body) = parts(response);
        assert_eq!(error_code(503, &body), "ERROR_RATE_LIMITED");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("at most 3 deliveries a minute"),
            "{body}"
        );
    }
    assert_eq!(deliver(&other, 9).await.status(), 200, "another webhook's limit is its own");
    assert_eq!(
        stored(&app, DOMAIN).await.len(),
        accepted + 1,
        "what was answered 200 is stored, nothing else"
    );
}

/// The key of an event's first raw_data chunk item, as its event item names its chunks.
async fn first_chunk(app: &App, event_id: &str) -> String {
    let item = dynamodb()
        .get_item()
        .table_name(&app.config.tables.events)
        .key("event_id", aws_sdk_dynamodb::types::AttributeValue::S(event_id.to_string()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the event is stored");
    format!("{event_id}#raw#{}#0", item["raw_data_digest"].as_s().unwrap())
}
