//! Format detection, and properties of every parser over any input.

use serde_json::{json, Value};

use super::*;

#[test]
fn detect_recognises_each_sender() {
    assert_eq!(detect(&json!({"Type": "Notification", "TopicArn": "arn"})), WebhookFormat::AwsSns);
    assert_eq!(detect(&json!({"alerts": [], "groupKey": "{}", "orgId": 1})), WebhookFormat::Grafana);
    assert_eq!(detect(&json!({"alerts": [], "groupKey": "{}"})), WebhookFormat::Alertmanager);
    assert_eq!(detect(&json!({"ruleName": "x", "evalMatches": []})), WebhookFormat::Grafana);
    assert_eq!(detect(&json!({"title": "t"})), WebhookFormat::Standard);
}

#[test]
fn detect_recognises_raw_sns_deliveries_and_grafana_unified_bodies() {
    let alarm = json!({"AlarmName": "cpu", "NewStateValue": "ALARM", "Trigger": {}});
    assert_eq!(detect(&alarm), WebhookFormat::AwsSns);
    let health = json!({"source": "aws.health", "detail-type": "AWS Health Event", "detail": {}});
    assert_eq!(detect(&health), WebhookFormat::AwsSns);
    let unified: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/grafana/unified-firing-two.json"))
            .unwrap();
    assert_eq!(detect(&unified), WebhookFormat::Grafana);
    let am: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/alertmanager/firing-grouped-two.json"))
            .unwrap();
    assert_eq!(detect(&am), WebhookFormat::Alertmanager);
}

#[test]
fn detect_recognises_huawei_reports_and_leaves_standard_lists_alone() {
    let cloud_eye: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/cloud_eye/report-two.json")).unwrap();
    assert_eq!(detect(&cloud_eye), WebhookFormat::CloudEye);
    let aom: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/aom/report-alarm.json")).unwrap();
    assert_eq!(detect(&aom), WebhookFormat::Aom);
    assert_eq!(detect(&json!([{"title": "t"}])), WebhookFormat::Standard);
    assert_eq!(detect(&json!({"events": [{"title": "t"}]})), WebhookFormat::Standard);
}

#[test]
fn only_an_aom_body_takes_the_clear_action() {
    let aom: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/aom/report-alarm.json")).unwrap();
    let cleared = parse_delivery(WebhookFormat::Auto, &aom, Some("clear")).unwrap();
    assert_eq!(cleared[0].event_type.as_deref(), Some("RECOVERY"));
    assert_eq!(
        parse_delivery(WebhookFormat::Aom, &aom, None).unwrap()[0].event_type.as_deref(),
        Some("ALERT")
    );
    let standard = json!({"title": "t", "event_type": "ALERT"});
    let read = parse_delivery(WebhookFormat::Auto, &standard, Some("clear")).unwrap();
    assert_eq!(read, parse(WebhookFormat::Standard, &standard).unwrap());
}

mod never_panic {
    use super::super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Member names the parsers look at, so random bodies reach deep into them.
    const KEYS: &[&str] = &[
        "alerts",
        "labels",
        "annotations",
        "status",
        "fingerprint",
        "startsAt",
        "endsAt",
        "severity",
        "alertname",
        "summary",
        "Type",
        "TopicArn",
        "Message",
        "Subject",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "AlarmName",
        "AlarmArn",
        "NewStateValue",
        "StateChangeTime",
        "AWSAccountId",
        "Trigger",
        "Dimensions",
        "Metrics",
        "MetricStat",
        "Metric",
        "ruleId",
        "ruleName",
        "state",
        "evalMatches",
        "tags",
        "orgId",
        "title",
        "detail",
        "source",
        "eventArn",
        "eventDescription",
        "affectedEntities",
        "values",
        "valueString",
        "imageURL",
        "name",
        "value",
        "events",
        "event_name",
        "event_source",
        "time",
        "event_state",
        "event_level",
        "metadata",
        "starts_at",
        "event_severity",
        "event_type",
    ];
    const WORDS: &[&str] = &[
        "firing",
        "resolved",
        "ALARM",
        "OK",
        "INSUFFICIENT_DATA",
        "Notification",
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
        "alerting",
        "no_data",
        "aws.health",
        "closed",
        "critical",
        "",
        "{\"AlarmName\": \"a\", \"NewStateValue\": \"OK\", \"Trigger\": []}",
        "{\"AlarmName\"",
        "ALARM: \"x\" in y",
        "0001-01-01T00:00:00Z",
        "2026-11-22T15:54:27Z",
        "normal",
        "incident",
        "Major",
        "alarm",
        "event",
    ];

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            "[ -~]{0,12}".prop_map(Value::String),
            prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..6).prop_map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
            ]
        })
    }

    fn fixtures() -> Vec<Value> {
        [
            include_str!("../../../tests/fixtures/alertmanager/firing-grouped-two.json"),
            include_str!("../../../tests/fixtures/grafana/unified-firing-two.json"),
            include_str!("../../../tests/fixtures/grafana/legacy-alerting.json"),
            include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-anomaly-alarm.json"),
            include_str!("../../../tests/fixtures/aws_sns/notification-aws-health.json"),
            include_str!("../../../tests/fixtures/aws_sns/subscription-confirmation.json"),
            include_str!("../../../tests/fixtures/cloud_eye/report-two.json"),
            include_str!("../../../tests/fixtures/aom/report-alarm.json"),
        ]
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect()
    }

    /// Every place in `value`, as JSON pointers.
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{at}/{k}"), out)),
            Value::Array(items) => {
                items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out))
            }
            _ => {}
        }
        out.push(at);
    }

    fn parse_all(body: &Value) {
        for format in WebhookFormat::ALL {
            let _ = parse(*format, body);
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic_on_arbitrary_json(body in arb_json()) {
            parse_all(&body);
        }

        #[test]
        fn parsers_never_panic_when_one_fixture_member_changes(
            which in 0usize..8, place in any::<prop::sample::Index>(), replacement in arb_json()
        ) {
            let mut body = fixtures().swap_remove(which);
            let mut places = Vec::new();
            pointers(&body, String::new(), &mut places);
            let pointer = place.get(&places).clone();
            match body.pointer_mut(&pointer) {
                Some(slot) if !pointer.is_empty() => *slot = replacement,
                _ => body = replacement,
            }
            parse_all(&body);
        }
    }
}
