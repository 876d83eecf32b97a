//! The SNS parser through `parse`, over fixtures from real senders.

use serde_json::{json, Value};

use super::*;

const SUBSCRIBE: &str = include_str!("../../../../tests/fixtures/aws_sns/subscription-confirmation.json");
const UNSUBSCRIBE: &str = include_str!("../../../../tests/fixtures/aws_sns/unsubscribe-confirmation.json");
const ALARM: &str = include_str!("../../../../tests/fixtures/aws_sns/notification-cloudwatch-alarm.json");
const OK: &str = include_str!("../../../../tests/fixtures/aws_sns/notification-cloudwatch-ok.json");
const ANOMALY: &str =
    include_str!("../../../../tests/fixtures/aws_sns/notification-cloudwatch-anomaly-alarm.json");
const PLAIN: &str = include_str!("../../../../tests/fixtures/aws_sns/notification-plain-text.json");
const HEALTH: &str = include_str!("../../../../tests/fixtures/aws_sns/notification-aws-health.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn one(body: &Value) -> ParsedEvent {
    let mut events = parse(body).unwrap();
    assert_eq!(events.len(), 1);
    events.remove(0)
}

/// The fixture with its Message replaced by the alarm JSON edited by `edit`.
fn with_alarm(text: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = fixture(text);
    let mut alarm: Value = serde_json::from_str(body["Message"].as_str().unwrap()).unwrap();
    edit(&mut alarm);
    body["Message"] = Value::String(alarm.to_string());
    body
}

#[test]
fn subscription_confirmation_is_an_info_event_showing_the_subscribe_url() {
    let body = fixture(SUBSCRIBE);
    let e = one(&body);
    let url = body["SubscribeURL"].as_str().unwrap();
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("INFO"));
    assert_eq!(
        e.title.as_deref(),
        Some("AWS SNS subscription confirmation for arn:aws:sns:us-east-1:123456789012:spaceone-alarms")
    );
    assert!(e.description.as_deref().unwrap().contains(url));
    assert_eq!(e.additional_info["SubscribeURL"], json!(url));
    assert_eq!(e.additional_info["TopicArn"], body["TopicArn"]);
    assert_eq!(e.additional_info["Token"], body["Token"]);
    assert_eq!(e.additional_info["MessageId"], json!("165545c9-2a5c-472c-8df2-7ff2be2b3b1b"));
    assert_eq!(e.dedup_key.as_deref(), Some("165545c9-2a5c-472c-8df2-7ff2be2b3b1b"));
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    assert_eq!(e.provider.as_deref(), Some("aws"));
    assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T15:45:04.751Z"));
    let topic = e.resource.unwrap();
    assert_eq!((topic.resource_type.as_str(), topic.name.as_str()), ("AWS::SNS::Topic", "spaceone-alarms"));
    assert_eq!(e.raw_data, body);
}

#[test]
fn unsubscribe_confirmation_is_an_info_event() {
    let e = one(&fixture(UNSUBSCRIBE));
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("INFO"));
    assert!(e.title.unwrap().starts_with("AWS SNS unsubscribe confirmation for arn:aws:sns:"));
    assert_eq!(e.rule.as_deref(), Some("UnsubscribeConfirmation"));
}

#[test]
fn cloudwatch_alarm_maps_every_field() {
    let body = fixture(ALARM);
    let e = one(&body);
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("ERROR"));
    assert_eq!(e.title.as_deref(), Some("web-1-cpu-high"));
    assert_eq!(e.rule.as_deref(), Some("web-1-cpu-high"));
    assert!(e
        .description
        .as_deref()
        .unwrap()
        .starts_with("Threshold Crossed: 1 out of the last 1 datapoints"));
    assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T17:02:11.429Z"));
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    assert_eq!(e.provider.as_deref(), Some("aws"));
    assert_eq!(e.dedup_key.as_deref(), Some("5f9a7c35-2b7e-5b4e-9d8e-0c1f3e2a4b6d"));
    assert_eq!(e.raw_data, body);
    let resource = e.resource.unwrap();
    assert_eq!(resource.resource_id, "i-0b79aaf581d5389d5");
    assert_eq!(resource.resource_type, "AWS/EC2");
    assert_eq!(resource.name, "[AWS/EC2] InstanceId=i-0b79aaf581d5389d5 (US East (N. Virginia))");
    let info = &e.additional_info;
    assert_eq!(info["AlarmName"], json!("web-1-cpu-high"));
    assert_eq!(info["AlarmArn"], json!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-cpu-high"));
    assert_eq!(info["AWSAccountId"], json!("123456789012"));
    assert_eq!(info["Region"], json!("US East (N. Virginia)"));
    assert_eq!(info["OldStateValue"], json!("OK"));
    assert_eq!(info["NewStateValue"], json!("ALARM"));
    assert_eq!(info["MetricName"], json!("CPUUtilization"));
    assert_eq!(info["Namespace"], json!("AWS/EC2"));
    assert_eq!(info["Dimensions"], json!("InstanceId=i-0b79aaf581d5389d5"));
    assert_eq!(info["AlarmDescription"], json!("CPU above 80% on web-1 for 5 minutes"));
    assert_eq!(info["Subject"], json!("ALARM: \"web-1-cpu-high\" in US East (N. Virginia)"));
}

#[test]
fn ok_notification_maps_to_recovery_with_same_event_key() {
    let alarm = one(&fixture(ALARM));
    let ok = one(&fixture(OK));
    assert_eq!(ok.event_type.as_deref(), Some("RECOVERY"));
    assert_eq!(ok.severity.as_deref(), Some("INFO"));
    assert_eq!(ok.event_key, alarm.event_key);
    assert_ne!(ok.dedup_key, alarm.dedup_key);
    assert_eq!(ok.occurred_at.as_deref(), Some("2026-11-22T17:17:11.207Z"));
}

#[test]
fn insufficient_data_is_an_alert_with_not_available_severity() {
    let body = with_alarm(ALARM, |a| a["NewStateValue"] = json!("INSUFFICIENT_DATA"));
    let e = one(&body);
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("NOT_AVAILABLE"));
    assert_eq!(e.event_key, one(&fixture(ALARM)).event_key);
}

#[test]
fn alarm_without_arn_is_keyed_by_account_region_and_name() {
    let a = with_alarm(ALARM, |a| {
        a.as_object_mut().unwrap().remove("AlarmArn");
    });
    let b = with_alarm(OK, |a| {
        a.as_object_mut().unwrap().remove("AlarmArn");
    });
    let c = with_alarm(ALARM, |a| {
        a.as_object_mut().unwrap().remove("AlarmArn");
        a["Region"] = json!("EU (Ireland)");
    });
    let key = |body: &Value| one(body).event_key.unwrap();
    assert_eq!(key(&a), key(&b));
    assert_ne!(key(&a), key(&c));
}

#[test]
fn metric_math_alarm_reads_its_dimensions_from_the_metrics() {
    let e = one(&fixture(ANOMALY));
    let resource = e.resource.unwrap();
    assert_eq!(resource.resource_id, "prod-eks");
    assert_eq!(resource.resource_type, "ContainerInsights");
    assert_eq!(
        resource.name,
        "[ContainerInsights] ClusterName=prod-eks, Namespace=payments (US East (N. Virginia))"
    );
    assert_eq!(e.additional_info["MetricName"], json!("pod_cpu_utilization"));
    assert!(!e.additional_info.contains_key("AlarmDescription"), "a null description is left out");
}

#[test]
fn raw_message_delivery_of_an_alarm_is_read_without_the_envelope() {
    let alarm: Value = serde_json::from_str(fixture(ALARM)["Message"].as_str().unwrap()).unwrap();
    let e = one(&alarm);
    assert_eq!(e.event_key, one(&fixture(ALARM)).event_key);
    assert_eq!(e.dedup_key, None);
    assert_eq!(e.raw_data, alarm);
    assert_eq!(crate::formats::detect(&alarm), crate::model::WebhookFormat::AwsSns);
}

#[test]
fn plain_text_notification_uses_subject_and_message() {
    let body = fixture(PLAIN);
    let e = one(&body);
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("INFO"));
    assert_eq!(e.title.as_deref(), Some("Nightly backup failed"));
    assert_eq!(e.description, body["Message"].as_str().map(str::to_string));
    assert_eq!(e.dedup_key.as_deref(), Some("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"));
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T02:14:06.655Z"));
    // Same topic and subject: the same problem again.
    let mut again = body.clone();
    again["MessageId"] = json!("another");
    again["Message"] = json!("It failed again.");
    assert_eq!(one(&again).event_key, e.event_key);
    let mut other = body;
    other["Subject"] = json!("Nightly backup succeeded");
    assert_ne!(one(&other).event_key, e.event_key);
}

#[test]
fn notification_without_subject_is_titled_by_its_topic() {
    let mut body = fixture(PLAIN);
    body.as_object_mut().unwrap().remove("Subject");
    body["Message"] = json!("{not json, just braces}");
    let e = one(&body);
    assert_eq!(e.title.as_deref(), Some("AWS SNS notification from spaceone-alarms"));
    assert_eq!(e.description.as_deref(), Some("{not json, just braces}"));
}

#[test]
fn aws_health_event_follows_the_reference() {
    let e = one(&fixture(HEALTH));
    assert_eq!(e.event_type.as_deref(), Some("ALERT"));
    assert_eq!(e.severity.as_deref(), Some("ERROR"));
    assert_eq!(e.title.as_deref(), Some("Aws Ec2 Instance Store Drive Performance Degraded"));
    assert_eq!(e.rule.as_deref(), Some("issue"));
    assert!(e.event_key.as_deref().unwrap().starts_with("arn:aws:health:us-east-1::event/EC2/"));
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T06:10:09.000Z"));
    assert_eq!(
        e.description.as_deref(),
        Some("A description of the event will be provided here (Account:123456789012)\n\nAffected Entities:\n - i-abcd1111")
    );
    assert_eq!(e.additional_info["affectedEntities"], json!(["i-abcd1111"]));
    assert_eq!(e.dedup_key.as_deref(), Some("3737b6d6-1c86-59a2-9111-ec5f4013dd65"));
    let mut closed: Value = serde_json::from_str(fixture(HEALTH)["Message"].as_str().unwrap()).unwrap();
    closed["detail"]["statusCode"] = json!("closed");
    let recovery = one(&closed);
    assert_eq!(recovery.event_type.as_deref(), Some("RECOVERY"));
    assert_eq!(recovery.event_key, e.event_key);
}

#[test]
fn alarm_looking_message_that_is_not_json_is_rejected() {
    let mut body = fixture(ALARM);
    body["Message"] = json!("CPU is high on web-1");
    let error = parse(&body).unwrap_err().0;
    assert!(error.contains("names a CloudWatch alarm, but the Message is not the alarm's JSON"), "{error}");
    let mut body = fixture(ALARM);
    body["Message"] = json!("{\"AlarmName\": \"web-1-cpu-high\", ");
    let error = parse(&body).unwrap_err().0;
    assert!(
        error.starts_with("the SNS Message looks like a CloudWatch alarm but is not valid JSON"),
        "{error}"
    );
}

#[test]
fn malformed_messages_say_what_is_wrong() {
    let error = |body: Value| parse(&body).unwrap_err().0;
    let topic = "arn:aws:sns:us-east-1:123456789012:t";
    assert!(error(json!("x")).contains("must be a JSON object, not a string"));
    assert!(error(json!({"Message": "hi"})).starts_with("not an SNS message"));
    assert!(error(json!({"Type": 3, "TopicArn": topic})).contains("'Type' must be a string"));
    assert!(
        error(json!({"Type": "Other", "TopicArn": topic})).starts_with("unknown SNS message Type 'Other'")
    );
    assert!(error(json!({"Type": "Notification", "Message": "m"})).contains("no 'TopicArn'"));
    assert!(error(json!({"Type": "Notification", "TopicArn": topic})).contains("no 'Message'"));
    assert!(error(json!({"Type": "Notification", "TopicArn": topic, "Message": {"a": 1}}))
        .contains("'Message' must be a string"));
    assert!(
        error(json!({"Type": "SubscriptionConfirmation", "TopicArn": topic})).contains("no 'SubscribeURL'")
    );
    let alarm = |edit: fn(&mut Value)| with_alarm(ALARM, edit);
    assert!(error(alarm(|a| a["Trigger"] = json!("x"))).contains("'Trigger' must be an object"));
    assert!(error(alarm(|a| a["Trigger"]["Dimensions"] = json!({"name": "x"})))
        .contains("'Dimensions' must be a list"));
    assert!(error(alarm(|a| a["Trigger"]["Dimensions"] = json!(["i-1"])))
        .contains("must be an object {name, value}"));
    assert!(error(alarm(|a| a["Trigger"]["Metrics"] = json!(1))).contains("'Metrics' must be a list"));
    assert!(error(alarm(|a| a["AlarmName"] = json!(["x"]))).contains("'AlarmName' must be a string"));
    assert!(error(alarm(|a| a["NewStateValue"] = Value::Null)).contains("no 'NewStateValue'"));
    assert!(error(alarm(|a| a["AWSAccountId"] = json!({}))).contains("'AWSAccountId' must be a string"));
    let mut health: Value = serde_json::from_str(fixture(HEALTH)["Message"].as_str().unwrap()).unwrap();
    health["detail"]["eventArn"] = Value::Null;
    assert!(error(health).contains("no 'detail.eventArn'"));
}

#[test]
fn every_fixture_parses_through_auto_detection() {
    for text in [SUBSCRIBE, UNSUBSCRIBE, ALARM, OK, ANOMALY, PLAIN, HEALTH] {
        let body = fixture(text);
        assert_eq!(crate::formats::detect(&body), crate::model::WebhookFormat::AwsSns);
        let auto = crate::formats::parse(crate::model::WebhookFormat::Auto, &body).unwrap();
        assert_eq!(auto, parse(&body).unwrap());
    }
}
