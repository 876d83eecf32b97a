//! AWS SNS deliveries through the create handler: signatures are checked unless the
//! webhook turned that off, CloudWatch alarms open and resolve alerts, and a redelivered
//! MessageId is stored once.

use e2e::*;
use event_core::model::{AlertState, WebhookFormat};
use event_core::service::App;
use event_core::store::EventRange;

async fn post(app: &App, path: &str, body: &str) -> (u16, serde_json::Value) {
    let req = ApiEvent::new(Gateway::Rest, "create").route("POST", path).body(body).request();
    parts(event_create::handle(app, req).await)
}

async fn unverified_webhook(app: &App) -> String {
    let mut new = new_webhook(WebhookFormat::AwsSns, DOMAIN, PROJECT);
    new.verify_sns_signature = false;
    webhook_path(&webhook_from(app, new).await)
}

#[tokio::test]
async fn messages_whose_signature_does_not_verify_are_refused_and_not_stored() {
    let app = app().await;
    let path = webhook_path(&webhook(&app, WebhookFormat::AwsSns).await);
    // Published now, so the signature (not the replay window) is what refuses it.
    let mut raw =
        serde_json::from_str::<serde_json::Value>(&fixture("aws_sns/notification-cloudwatch-alarm.json"))
            .unwrap();
    raw["Timestamp"] = serde_json::json!(event_core::model::format_time(chrono::Utc::now()));
    let alarm = raw.to_string();
    // A certificate that is not on an SNS endpoint is never fetched.
    let mut forged = raw.clone();
    forged["SigningCertURL"] = serde_json::json!("https://sns.example.com/SimpleNotificationService-1.pem");
    let (status, err) = post(&app, &path, &forged.to_string()).await;
    assert_eq!((status, error_code(status, &err).as_str()), (403, "ERROR_PERMISSION_DENIED"));
    // The fixture's signature is not one SNS made: refused where its certificate can be
    // fetched (403), and where it cannot, 503 so that SNS retries. Never stored.
    let (status, err) = post(&app, &path, &alarm).await;
    let code = error_code(status, &err);
    assert!(
        [(403, "ERROR_PERMISSION_DENIED"), (503, "ERROR_UPSTREAM_UNAVAILABLE")]
            .contains(&(status, code.as_str())),
        "{status} {err}"
    );
    let (status, err) = post(&app, &path, raw["Message"].as_str().unwrap()).await;
    assert_eq!(status, 403, "a raw delivery has no signature to check");
    assert!(err["error"]["message"].as_str().unwrap().contains("raw"), "{err}");
    assert!(app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap().is_empty());
}

#[tokio::test]
async fn cloudwatch_alarm_opens_and_ok_resolves_and_redeliveries_store_once() {
    let app = app().await;
    let path = unverified_webhook(&app).await;
    for fixture_name in [
        "aws_sns/notification-cloudwatch-alarm.json",
        "aws_sns/notification-cloudwatch-alarm.json", // SNS retried: same MessageId
        "aws_sns/notification-cloudwatch-ok.json",
    ] {
        let (status, body) = post(&app, &path, &fixture(fixture_name)).await;
        assert_eq!(status, 200, "{fixture_name}: {body}");
    }
    let mut events = app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    events.reverse();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["ALERT", "RECOVERY"]);
    assert_eq!(events[0].alert_id, events[1].alert_id);
    let alert = app.store.get_alert(&trusted(DOMAIN), &events[0].alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state, AlertState::Resolved);
}

#[tokio::test]
async fn a_subscription_confirmation_that_cannot_be_confirmed_is_a_503_so_sns_resends_it() {
    let app = app().await;
    let path = unverified_webhook(&app).await;
    // This machine has no route to SNS, so the confirmation GET fails.
    let (status, body) = post(&app, &path, &fixture("aws_sns/subscription-confirmation.json")).await;
    assert_eq!((status, error_code(status, &body).as_str()), (503, "ERROR_UPSTREAM_UNAVAILABLE"), "{body}");
    assert!(app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_webhook_can_narrow_sns_to_chosen_topics_and_refuses_signed_replays() {
    let app = app().await;
    let alarm = fixture("aws_sns/notification-cloudwatch-alarm.json");
    let mut new = new_webhook(WebhookFormat::AwsSns, DOMAIN, PROJECT);
    new.verify_sns_signature = false;
    new.sns_policy.topic_arns = vec!["arn:aws:sns:us-east-1:123456789012:somebody-else".into()];
    let other_topic = webhook_path(&webhook_from(&app, new).await);
    let (status, err) = post(&app, &other_topic, &alarm).await;
    assert_eq!((status, error_code(status, &err).as_str()), (403, "ERROR_PERMISSION_DENIED"), "{err}");
    // A signed message published before the redelivery window is refused before its
    // certificate is even fetched: the fixture was captured days ago.
    let verified = webhook_path(&webhook(&app, WebhookFormat::AwsSns).await);
    let (status, err) = post(&app, &verified, &alarm).await;
    assert_eq!(status, 403, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("replay"), "{err}");
    assert!(app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap().is_empty());
}
