//! The `cloud_eye` and `aom` webhook formats through real API Gateway events, read back
//! through the Huawei query routes: the seeds' examples replay field for field.

use e2e::*;
use event_core::api::Endpoint;
use event_core::model::{AlertState, EventType, WebhookFormat};
use event_core::service::webhooks::IssuedKey;
use event_core::service::App;
use event_core::store::EventRange;
use serde_json::{json, Value};

async fn post(app: &App, path: &str, body: &str) -> (u16, Value) {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(body).request();
    parts(event_create::handle(app, req).await)
}

async fn post_with_action(app: &App, path: &str, action: &str, body: &str) -> (u16, Value) {
    let req =
        ApiEvent::new(Gateway::Rest, "create").route("POST", path).query(&[("action", action)]).body(body);
    parts(event_create::handle(app, req.request()).await)
}

async fn cloud_eye(app: &App, name: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let path = Endpoint::CloudEyeEvent.path(&[PROJECT, name]);
    let params: Vec<(&str, &str)> = params.iter().copied().chain([("domain_id", DOMAIN)]).collect();
    let req = ApiEvent::new(Gateway::Rest, "list").route("GET", &path).query(&params).request();
    parts(event_list::handle(app, req).await)
}

async fn aom(app: &App, listing: Option<&str>, body: &Value) -> (u16, Value) {
    let path = Endpoint::AomEvents.path(&[PROJECT]);
    let params: Vec<(&str, &str)> =
        listing.map(|t| ("type", t)).into_iter().chain([("domain_id", DOMAIN)]).collect();
    let req =
        ApiEvent::new(Gateway::Http, "list").route("POST", &path).query(&params).body(&body.to_string());
    parts(event_list::handle(app, req.request()).await)
}

async fn stored(app: &App) -> Vec<event_core::model::Event> {
    app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap()
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap()
}

#[tokio::test]
async fn the_cloud_eye_seed_example_replays_field_for_field() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::CloudEye).await;
    let report = fixture("cloud_eye/seed-003-reboot-server.json");
    let (status, answer) = post(&app, &webhook_path(&key), &report).await;
    assert_eq!(status, 200, "{answer}");
    let reported = answer.as_array().expect("Cloud Eye's answer is a list");
    assert_eq!(reported.len(), 3);
    assert!(reported.iter().all(|r| r["event_name"] == "rebootServer" && r["event_id"].is_string()));

    let (status, got) = cloud_eye(&app, "rebootServer", &[("event_type", "EVENT.SYS")]).await;
    assert_eq!(status, 200, "{got}");
    // The seed's answer, with the ids we minted (in the order reported, which is its
    // order too) and the total of the three events it shows (it counted five).
    let mut expected = fixture_json("cloud_eye/seed-003-answer.json");
    for (info, ours) in expected["event_info"].as_array_mut().unwrap().iter_mut().zip(reported) {
        info["event_id"] = ours["event_id"].clone();
    }
    expected["meta_data"]["total"] = json!(3);
    assert_eq!(got, expected);

    let (status, again) = post(&app, &webhook_path(&key), &report).await;
    assert_eq!((status, again), (200, json!([])), "a resend stores nothing new");
    assert_eq!(stored(&app).await.len(), 3);
    let every_field_but_content = report.replace("\"event_level\": \"Minor\"", "\"event_level\": \"Major\"");
    let (_, changed) = post(&app, &webhook_path(&key), &every_field_but_content).await;
    assert_eq!(changed.as_array().map(Vec::len), Some(3), "another level, other events");
}

#[tokio::test]
async fn a_cloud_eye_report_is_told_apart_by_auto_and_answered_as_that_webhook_answers() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Auto).await;
    let (status, answer) = post(&app, &webhook_path(&key), &fixture("cloud_eye/report-two.json")).await;
    assert_eq!((status, answer), (200, json!({})), "an auto webhook answers as always");
    let events = stored(&app).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.title == "systemInvaded" && e.provider == "financial.Sys"));
    assert!(events.iter().all(|e| e.event_type == EventType::Recovery && e.alert_id.is_empty()), "normal");
    let (_, got) =
        cloud_eye(&app, "systemInvaded", &[("event_type", "EVENT.CUSTOM"), ("event_user", "xiaokong")]).await;
    assert_eq!(got["meta_data"]["total"], 2, "{got}");
    assert_eq!(got["event_info"][0]["detail"]["event_level"], "Major");
    assert_eq!(got["event_info"][0]["detail"]["group_id"], "rg15221211517051YWWkEnVd");
}

#[tokio::test]
async fn the_aom_seed_example_request_answers_with_the_example_event() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Aom).await;
    // The seed's alarm starts at 16377362908000 (the year 2488), outside its own request's
    // last 30 minutes, which select events by that time: it is reported as starting now.
    let now = chrono::Utc::now().timestamp_millis();
    let mut alarm = fixture_json("aom/seed-004-alarm.json");
    alarm["events"][0]["starts_at"] = json!(now);
    let (status, answer) = post(&app, &webhook_path(&key), &alarm.to_string()).await;
    assert_eq!((status, answer), (200, json!({})));
    let (status, got) = aom(&app, None, &fixture_json("aom/seed-004-request.json")).await;
    assert_eq!(status, 200, "{got}");
    let mut expected = fixture_json("aom/seed-004-answer.json");
    let event_id = &stored(&app).await[0].event_id;
    expected["events"][0]["id"] = json!(event_id);
    expected["events"][0]["starts_at"] = json!(now);
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_aom_alarm_opens_an_alert_that_a_clear_resolves() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Auto).await;
    let report = fixture("aom/report-alarm.json");
    assert_eq!(post(&app, &webhook_path(&key), &report).await.0, 200);
    assert_eq!(post(&app, &webhook_path(&key), &report).await.0, 200, "a resend");
    assert_eq!(stored(&app).await.len(), 1, "a resend stores nothing new");
    let last_hour = json!({"time_range": "-1.-1.60"});
    let (_, active) = aom(&app, Some("active_alert"), &last_hour).await;
    let alarm = &active["events"][0];
    let sent = &fixture_json("aom/report-alarm.json")["events"][0];
    for field in ["starts_at", "timeout", "metadata", "annotations", "attach_rule"] {
        assert_eq!(alarm[field], sent[field], "{field}");
    }
    assert_eq!(alarm["ends_at"], 0);
    let alert_id = alarm["id"].as_str().unwrap().to_string();

    let (status, _) =
        post_with_action(&app, &webhook_path(&key), "clear", &fixture("aom/clear-alarm.json")).await;
    assert_eq!(status, 200);
    let alert = app.store.get_alert(&trusted(DOMAIN), &alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state, AlertState::Resolved);
    assert_eq!(aom(&app, Some("active_alert"), &last_hour).await.1, json!({"events": []}));
    let (_, history) = aom(&app, Some("history_alert"), &last_hour).await;
    assert_eq!(history["events"][0]["id"], json!(alert_id));
    assert!(history["events"][0]["ends_at"].as_i64().unwrap() > 0);

    let mut notice = fixture_json("aom/report-alarm.json");
    notice["events"][0]["metadata"]["event_type"] = json!("event");
    // A time_range selects events by their own time: this one starts now.
    notice["events"][0]["starts_at"] = json!(chrono::Utc::now().timestamp_millis());
    assert_eq!(post(&app, &webhook_path(&key), &notice.to_string()).await.0, 200);
    let (_, events) = aom(
        &app,
        None,
        &json!({"time_range": "-1.-1.60", "metadata_relation": [
        {"key": "event_type", "value": ["event"]}]}),
    )
    .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    let notices: Vec<_> =
        stored(&app).await.into_iter().filter(|e| e.additional_info["event_type"] == "event").collect();
    assert_eq!((notices.len(), notices[0].alert_id.as_str()), (1, ""), "a notice opens no alert");
}

#[tokio::test]
async fn only_an_aom_webhook_takes_put_as_aom_push_events_sends_it() {
    let app = app().await;
    let put = |path: String| {
        let body = fixture("aom/report-alarm.json");
        let req = ApiEvent::new(Gateway::Http, "create").route("PUT", &path).body(&body).request();
        let app = &app;
        async move {
            let response = event_create::handle(app, req).await;
            let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
            let (status, answer) = parts(response);
            (status, answer, allow)
        }
    };
    for format in [WebhookFormat::Standard, WebhookFormat::Auto, WebhookFormat::CloudEye] {
        let key = webhook(&app, format).await;
        let (status, answer, allow) = put(webhook_path(&key)).await;
        assert_eq!((status, allow.as_deref()), (405, Some("POST")), "{format}: {answer}");
        assert_eq!(answer["error"]["code"], "ERROR_METHOD_NOT_ALLOWED", "{answer}");
    }
    assert!(stored(&app).await.is_empty(), "a refused PUT stores nothing");
    let key = webhook(&app, WebhookFormat::Aom).await;
    let wrong = IssuedKey { access_key: "wrong".into(), ..key.clone() };
    let (status, _, _) = put(webhook_path(&wrong)).await;
    assert_eq!(status, 403, "the key is checked as for POST");
    let (status, answer, _) = put(webhook_path(&key)).await;
    assert_eq!((status, answer), (200, json!({})));
    let events = stored(&app).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].title, "test");
}

#[tokio::test]
async fn huawei_ingestion_paths_refuse_an_unsigned_or_wrongly_signed_call_and_store_nothing() {
    let app = app_with(|config| {
        config.huawei_signing_secret =
            Some(event_core::config::Secret::new("a-test-signing-secret-of-32-chars-or-more"))
    })
    .await;
    let key = webhook(&app, WebhookFormat::CloudEye).await;
    let report = fixture("cloud_eye/report-two.json");
    let forged = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders=x-sdk-date, Signature={}",
        key.webhook.webhook_id,
        "0".repeat(64)
    );
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for (method, endpoint, code_field) in [
        ("POST", Endpoint::CloudEyeCreateEvents, None),
        ("PUT", Endpoint::AomPushEvents, Some("SC_UNAUTHORIZED")),
    ] {
        let path = endpoint.path(&[PROJECT]);
        for authorization in [None, Some(forged.as_str())] {
            for gateway in GATEWAYS {
                let mut event = ApiEvent::new(gateway, "create")
                    .route(method, &path)
                    .body(&report)
                    .header("x-sdk-date", &date);
                if let Some(value) = authorization {
                    event = event.header("authorization", value);
                }
                let (status, answer) = parts(event_create::handle(&app, event.request()).await);
                assert_eq!((status, answer["error_code"].as_str()), (401, Some("APIGW.0301")), "{answer}");
                assert!(answer["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
                assert_eq!(answer["error_type"].as_str(), code_field, "{answer}");
            }
        }
    }
    assert!(stored(&app).await.is_empty(), "nothing stored");
}
