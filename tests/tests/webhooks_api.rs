//! The Webhook API end to end: API Gateway events (REST and HTTP payloads) into the
//! webhooks function, and deliveries into the create function, on DynamoDB Local. A
//! webhook is created over HTTP (its key shown once), read, listed, changed, disabled
//! (its URL then answers 400), enabled, given a new key, and deleted; another domain
//! finds none of it; bad input is a 400 that says what to fix.

use e2e::*;
use event_core::api::Endpoint;
use event_core::config::ReadAuthorizer;
use event_core::model::new_id;
use event_core::service::App;
use serde_json::{json, Value};

const OTHER_DOMAIN: &str = "domain-0be1ce0f0a1e";

/// Calls the webhooks function: `method path`, with this body and query, as `domain`.
async fn call(app: &App, gateway: Gateway, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut event = ApiEvent::new(gateway, "webhooks").route(method, path).query(&[]);
    if let Some(body) = body {
        event = event.body(&body.to_string());
    }
    parts(event_webhooks::handle(app, event.request()).await)
}

/// A legacy call that names the domain in the query string.
async fn call_in(app: &App, gateway: Gateway, method: &str, path: &str, domain: &str) -> (u16, Value) {
    let event = ApiEvent::new(gateway, "webhooks").route(method, path).query(&[("domain_id", domain)]);
    parts(event_webhooks::handle(app, event.request()).await)
}

fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1
}

/// Posts a body to a webhook's delivery path (with the key in it) through create.
async fn deliver(app: &App, path: &str, body: &str) -> (u16, Value) {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(body);
    parts(event_create::handle(app, req.request()).await)
}

const EVENT: &str = r#"{"title": "disk full", "severity": "CRITICAL", "event_key": "disk-1"}"#;

#[tokio::test]
async fn a_webhook_is_created_read_changed_disabled_rotated_and_deleted_on_both_gateways() {
    let app = app().await;
    for (gateway, create_path) in
        [(Gateway::Http, Endpoint::WebhookCreate), (Gateway::Rest, Endpoint::Webhooks)]
    {
        let domain = new_id("domain");
        let create = json!({"name": "prometheus", "project_id": PROJECT, "workspace_id": "workspace-1",
                            "plugin_info": {"plugin_id": "standard", "options": {}}, "tags": {"env": "prod"},
                            "domain_id": domain});
        let created = ok(call(&app, gateway, "POST", &create_path.path(&[]), Some(create)).await);
        let id = created["webhook_id"].as_str().unwrap().to_string();
        let key = created["access_key"].as_str().unwrap().to_string();
        assert_eq!(key.len(), 48, "{created}");
        assert_eq!(created["webhook_url"], json!(Endpoint::WebhookEvents.path(&[&id, &key])));
        assert_eq!(
            (created["state"].clone(), created["domain_id"].clone()),
            (json!("ENABLED"), json!(domain))
        );
        assert_eq!(created["plugin_info"]["plugin_id"], "standard");
        assert_eq!(created["tags"], json!({"env": "prod"}));
        let url = created["webhook_url"].as_str().unwrap().to_string();
        assert_eq!(deliver(&app, &url, EVENT).await.0, 200);
        assert_eq!(deliver(&app, &url, "not json at all").await.0, 200, "stored as an ERROR event");

        // get, both generations: never the key; the URL is the header-key form.
        let got = ok(call_in(&app, gateway, "GET", &Endpoint::WebhookById.path(&[&id]), &domain).await);
        assert_eq!(got.get("access_key"), None, "{got}");
        assert_eq!(got["webhook_url"], json!(Endpoint::WebhookEvents.path(&[&id, "_"])));
        assert_eq!(got["requests"], json!({"total": 2, "error": 1}), "{got}");
        let body = json!({"webhook_id": id, "domain_id": domain});
        let current =
            ok(call(&app, gateway, "POST", &Endpoint::WebhookGet.path(&[]), Some(body.clone())).await);
        assert_eq!(current, got);

        // list: exact fields, the query language, the legacy GET.
        let list = json!({"domain_id": domain, "state": "enabled", "name": "prometheus",
                          "query": {"filter": [{"k": "tags.env", "v": "prod"}], "only": ["webhook_id", "state"]}});
        let listed = ok(call(&app, gateway, "POST", &Endpoint::WebhookList.path(&[]), Some(list)).await);
        assert_eq!(listed, json!({"results": [{"webhook_id": id, "state": "ENABLED"}], "total_count": 1}));
        let event = ApiEvent::new(gateway, "webhooks")
            .route("GET", &Endpoint::WebhooksList.path(&[]))
            .query(&[("domain_id", &domain), ("state", "DISABLED")]);
        let none = ok(parts(event_webhooks::handle(&app, event.request()).await));
        assert_eq!(none["total_count"], 0, "{none}");

        // update and update-plugin, both generations.
        let update = json!({"webhook_id": id, "domain_id": domain, "name": "prometheus-prod",
                            "max_deliveries_per_minute": 600, "tags": {"env": "prod", "team": "db"}});
        let updated = ok(call(&app, gateway, "POST", &Endpoint::WebhookUpdate.path(&[]), Some(update)).await);
        assert_eq!(updated["name"], "prometheus-prod");
        assert_eq!(updated["max_deliveries_per_minute"], 600);
        let put =
            json!({"auto_resolve_after_seconds": 3600, "max_deliveries_per_minute": 0, "domain_id": domain});
        let put = ok(call(&app, gateway, "PUT", &Endpoint::WebhookPut.path(&[&id]), Some(put)).await);
        assert_eq!(
            (put["auto_resolve_after_seconds"].clone(), put["max_deliveries_per_minute"].clone()),
            (json!(3600), Value::Null)
        );
        assert_eq!(put["tags"], json!({"env": "prod", "team": "db"}));
        let plugin = json!({"format": "alertmanager", "options": {"require_sns_signature_v2": true}, "domain_id": domain});
        let plugged =
            ok(call(&app, gateway, "PUT", &Endpoint::WebhookPluginPut.path(&[&id]), Some(plugin)).await);
        assert_eq!(plugged["plugin_info"]["plugin_id"], "alertmanager");
        assert_eq!(plugged["plugin_info"]["options"]["require_sns_signature_v2"], true);
        let plugin = json!({"webhook_id": id, "format": "standard", "domain_id": domain});
        ok(call(&app, gateway, "POST", &Endpoint::WebhookUpdatePlugin.path(&[]), Some(plugin)).await);
        assert_eq!(app.store.get_webhook(&id).await.unwrap().unwrap().name, "prometheus-prod", "stored");

        // disable: deliveries are refused; enable: accepted again.
        let disabled =
            ok(call(&app, gateway, "POST", &Endpoint::WebhookDisable.path(&[]), Some(body.clone())).await);
        assert_eq!(disabled["state"], "DISABLED");
        let (status, answer) = deliver(&app, &url, EVENT).await;
        assert_eq!((status, error_code(status, &answer)), (400, "ERROR_WEBHOOK_STATE_DISABLED".into()));
        let enabled =
            ok(call_in(&app, gateway, "PUT", &Endpoint::WebhookEnablePut.path(&[&id]), &domain).await);
        assert_eq!(enabled["state"], "ENABLED");
        assert_eq!(deliver(&app, &url, EVENT).await.0, 200);

        // rotate-key: without grace the old key stops at once; with grace it keeps working.
        let rotate = json!({"webhook_id": id, "domain_id": domain});
        let rotated =
            ok(call(&app, gateway, "POST", &Endpoint::WebhookRotateKey.path(&[]), Some(rotate)).await);
        let second = rotated["webhook_url"].as_str().unwrap().to_string();
        assert_ne!(rotated["access_key"], json!(key));
        assert_eq!(deliver(&app, &url, EVENT).await.0, 403, "the old key is refused");
        assert_eq!(deliver(&app, &second, EVENT).await.0, 200);
        let rotate = json!({"webhook_id": id, "domain_id": domain, "grace_seconds": 3600});
        let third =
            ok(call(&app, gateway, "POST", &Endpoint::WebhookRotateKey.path(&[]), Some(rotate)).await);
        assert!(third["previous_key_valid_until"].is_string(), "{third}");
        assert_eq!(deliver(&app, &second, EVENT).await.0, 200, "in its grace period");
        assert_eq!(deliver(&app, third["webhook_url"].as_str().unwrap(), EVENT).await.0, 200);

        // stat over the domain's webhooks.
        let stat = json!({"domain_id": domain, "query": {"aggregate": [{"group": {"keys": [{"key": "state", "name": "state"}],
                          "fields": [{"name": "n", "operator": "count"}]}}]}});
        let stat = ok(call(&app, gateway, "POST", &Endpoint::WebhooksStat.path(&[]), Some(stat)).await);
        assert_eq!(stat["results"], json!([{"state": "ENABLED", "n": 1}]));

        // delete: gone to the API, and its URL answers 403.
        let deleted =
            call_in(&app, gateway, "DELETE", &Endpoint::WebhookDeleteById.path(&[&id]), &domain).await;
        assert_eq!(ok(deleted), json!({}));
        let (status, answer) =
            call_in(&app, gateway, "GET", &Endpoint::WebhookById.path(&[&id]), &domain).await;
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()));
        assert_eq!(deliver(&app, &second, EVENT).await.0, 403);
        let (status, _) = call(&app, gateway, "POST", &Endpoint::WebhookDelete.path(&[]), Some(body)).await;
        assert_eq!(status, 404, "deleting twice");
    }
}

#[tokio::test]
async fn another_domain_finds_no_webhook_and_changes_none() {
    let app = app_with(|config| config.read_authorizer = ReadAuthorizer::Jwt).await;
    let key = webhook(&app, event_core::model::WebhookFormat::Standard).await;
    let id = key.webhook.webhook_id.clone();
    for gateway in GATEWAYS {
        let as_other = |method: &str, path: &str, body: Value| {
            let event =
                ApiEvent::new(gateway, "webhooks").route(method, path).query(&[]).body(&body.to_string());
            event.claims_domain(OTHER_DOMAIN).request()
        };
        let by_id = json!({"webhook_id": id});
        for (method, path, body) in [
            ("GET", Endpoint::WebhookById.path(&[&id]), json!({})),
            ("POST", Endpoint::WebhookGet.path(&[]), by_id.clone()),
            ("POST", Endpoint::WebhookUpdate.path(&[]), json!({"webhook_id": id, "name": "mine"})),
            ("PUT", Endpoint::WebhookPluginPut.path(&[&id]), json!({"format": "aom"})),
            ("POST", Endpoint::WebhookDisable.path(&[]), by_id.clone()),
            ("PUT", Endpoint::WebhookEnablePut.path(&[&id]), json!({})),
            ("POST", Endpoint::WebhookRotateKey.path(&[]), by_id.clone()),
            ("DELETE", Endpoint::WebhookDeleteById.path(&[&id]), json!({})),
            ("POST", Endpoint::WebhookDelete.path(&[]), by_id.clone()),
        ] {
            let (status, answer) = parts(event_webhooks::handle(&app, as_other(method, &path, body)).await);
            assert_eq!(
                (status, error_code(status, &answer)),
                (404, "ERROR_NOT_FOUND".into()),
                "{method} {path}"
            );
        }
        let req = as_other("POST", &Endpoint::WebhookList.path(&[]), json!({}));
        let (status, answer) = parts(event_webhooks::handle(&app, req).await);
        assert_eq!((status, answer), (200, json!({"results": [], "total_count": 0})));
        // Naming the owner's domain with another domain's token is refused outright.
        let req =
            as_other("POST", &Endpoint::WebhookGet.path(&[]), json!({"webhook_id": id, "domain_id": DOMAIN}));
        assert_eq!(parts(event_webhooks::handle(&app, req).await).0, 403);
    }
    let stored = app.store.get_webhook(&id).await.unwrap().expect("still there");
    assert_eq!((stored.name.as_str(), stored.state.as_str()), ("bastion", "ENABLED"), "unchanged");
    assert_eq!(deliver(&app, &webhook_path(&key), EVENT).await.0, 200, "its key unchanged");
    // Behind a JWT, create puts the webhook in the token's domain.
    let create = json!({"name": "grafana", "project_id": PROJECT, "format": "grafana"}).to_string();
    let req = ApiEvent::new(Gateway::Rest, "webhooks")
        .route("POST", &Endpoint::Webhooks.path(&[]))
        .body(&create)
        .claims_domain(OTHER_DOMAIN);
    let created = ok(parts(event_webhooks::handle(&app, req.request()).await));
    assert_eq!(
        (created["domain_id"].clone(), created["format"].clone()),
        (json!(OTHER_DOMAIN), json!("grafana"))
    );
    // Its own domain finds it.
    let req = ApiEvent::new(Gateway::Http, "webhooks")
        .route("POST", &Endpoint::WebhookGet.path(&[]))
        .body(&json!({"webhook_id": id}).to_string())
        .claims_domain(DOMAIN);
    assert_eq!(ok(parts(event_webhooks::handle(&app, req.request()).await))["webhook_id"], json!(id));
}

#[tokio::test]
async fn bad_input_is_a_400_that_says_what_to_fix() {
    let app = app().await;
    let create = Endpoint::WebhookCreate.path(&[]);
    let cases = [
        (create.clone(), json!({"project_id": PROJECT, "domain_id": DOMAIN}), "name"),
        (create.clone(), json!({"name": "a", "domain_id": DOMAIN}), "project_id"),
        (
            create.clone(),
            json!({"name": " ", "project_id": PROJECT, "domain_id": DOMAIN}),
            "may not be empty",
        ),
        (
            create.clone(),
            json!({"name": "a", "project_id": PROJECT, "format": "nagios", "domain_id": DOMAIN}),
            "alertmanager",
        ),
        (
            create.clone(),
            json!({"name": "a", "project_id": PROJECT, "colour": "red", "domain_id": DOMAIN}),
            "Unknown parameter 'colour'",
        ),
        (
            create.clone(),
            json!({"name": "a", "project_id": PROJECT, "tags": {"n": 1}, "domain_id": DOMAIN}),
            "tags.n",
        ),
        (
            Endpoint::WebhookUpdate.path(&[]),
            json!({"webhook_id": "webhook-1", "tags": {"": "x"}, "domain_id": DOMAIN}),
            "may not be empty",
        ),
        (
            create.clone(),
            json!({"name": "a", "project_id": PROJECT, "options": {"sns_topic_arns": ["t"]}, "domain_id": DOMAIN}),
            "arn:aws:sns",
        ),
        (
            create.clone(),
            json!({"name": "a", "project_id": PROJECT, "max_deliveries_per_minute": -1, "domain_id": DOMAIN}),
            "whole number",
        ),
        (create, json!({"name": "a", "project_id": PROJECT}), "domain_id"),
        (
            Endpoint::WebhookUpdate.path(&[]),
            json!({"webhook_id": "webhook-1", "domain_id": DOMAIN}),
            "Nothing to update",
        ),
        (
            Endpoint::WebhookUpdatePlugin.path(&[]),
            json!({"webhook_id": "webhook-1", "name": "x", "domain_id": DOMAIN}),
            "Unknown parameter 'name'",
        ),
        (Endpoint::WebhookGet.path(&[]), json!({"domain_id": DOMAIN}), "webhook_id"),
        (
            Endpoint::WebhookRotateKey.path(&[]),
            json!({"webhook_id": "webhook-1", "grace_seconds": 9_999_999, "domain_id": DOMAIN}),
            "30 days",
        ),
        (Endpoint::WebhookList.path(&[]), json!({"state": "ON", "domain_id": DOMAIN}), "ENABLED"),
        (
            Endpoint::WebhookList.path(&[]),
            json!({"query": {"filter": [{"k": "name", "v": "a", "o": "eqq"}]}, "domain_id": DOMAIN}),
            "eqq",
        ),
    ];
    for (path, body, says) in cases {
        let (status, answer) = call(&app, Gateway::Http, "POST", &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        error_code(status, &answer);
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message:?} should say {says:?}");
    }
    let (status, answer) = call(&app, Gateway::Rest, "GET", &Endpoint::WebhookCreate.path(&[]), None).await;
    assert_eq!((status, error_code(status, &answer)), (405, "ERROR_METHOD_NOT_ALLOWED".into()));
    // The console's sample event, as it is: a get of a webhook this app does not have.
    for gateway in GATEWAYS {
        let (status, answer) =
            parts(event_webhooks::handle(&app, ApiEvent::new(gateway, "webhooks").request()).await);
        assert_eq!((status, error_code(status, &answer)), (404, "ERROR_NOT_FOUND".into()), "{answer}");
    }
}
