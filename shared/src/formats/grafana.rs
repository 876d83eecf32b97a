//! Grafana's webhook contact point, in both shapes Grafana has sent:
//! - unified alerting (Grafana 8+): an Alertmanager body (`alerts`, `groupKey`, …) plus
//!   `orgId`, `title`, `state`, `message`, each alert with `values`, `valueString`,
//!   `dashboardURL`, `panelURL`, `silenceURL` and `imageURL`; one event per alert;
//! - the legacy notifier (dashboard alerts, Grafana ≤ 10): one alert per body with
//!   `ruleName`, `ruleId`, `state`, `title`, `message`, `evalMatches`, `tags`, …
//!
//! Rules follow cloudforet-io/plugin-grafana-mon-webhook where they exist; where we
//! differ (one event per alert instead of one per notification group) `docs/formats.md`
//! says why.

use serde_json::{Map, Value};

use super::alertmanager::{alert_list, at, severity_from_label, AlertView, Group};
use super::json::{id_text, insert_if_free, json_kind, optional_object, optional_str, stable_key};
use super::{ParseError, ParsedEvent};

pub const PROVIDER: &str = "grafana";

/// Members only the legacy notifier's body has (a unified body has `alerts`).
const LEGACY_KEYS: &[&str] = &["ruleName", "ruleId", "evalMatches", "state", "dashboardId"];

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    let Value::Object(map) = body else {
        return Err(ParseError::new(format!(
            "a Grafana webhook payload must be a JSON object, not {}",
            json_kind(body)
        )));
    };
    if map.contains_key("alerts") {
        unified(body)
    } else if LEGACY_KEYS.iter().any(|k| map.contains_key(*k)) {
        legacy(body).map(|event| vec![event])
    } else {
        Err(ParseError::new(
            "not a Grafana webhook payload: it has neither an 'alerts' list (Grafana alerting) nor \
             'ruleName'/'state'/'evalMatches' (the legacy Grafana notifier)",
        ))
    }
}

fn unified(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    let alerts = alert_list(body, "a Grafana alerting")?;
    let group = Group::of(body)?;
    let context = Context {
        group: &group,
        org_id: optional_id(body, "orgId")?,
        title: optional_str(body, "title", "the payload's")?
            .map(strip_state_prefix)
            .filter(|t| !t.is_empty()),
        // The notification's message describes its whole group: only a lone alert may borrow it.
        message: match alerts.len() {
            1 => optional_str(body, "message", "the payload's")?.map(str::trim).filter(|m| !m.is_empty()),
            _ => None,
        },
    };
    alerts.iter().enumerate().map(|(i, alert)| unified_alert(alert, &context).map_err(|e| at(i, e))).collect()
}

/// What a unified alert takes from its notification.
struct Context<'a> {
    group: &'a Group<'a>,
    org_id: Option<String>,
    title: Option<&'a str>,
    message: Option<&'a str>,
}

fn unified_alert(alert: &Value, context: &Context<'_>) -> Result<ParsedEvent, ParseError> {
    let view = AlertView::read(alert, context.group)?;
    let text = |key: &str| -> Result<Option<&str>, ParseError> {
        Ok(optional_str(alert, key, "the alert's")?.map(str::trim).filter(|s| !s.is_empty()))
    };
    let value_string = text("valueString")?;
    let image_url = text("imageURL")?;
    let urls = [
        ("dashboard_url", text("dashboardURL")?),
        ("panel_url", text("panelURL")?),
        ("silence_url", text("silenceURL")?),
    ];
    let values = optional_object(alert, "values", "the alert's")?;

    // A severity label wins; Grafana's own no-data alert is NOT_AVAILABLE; otherwise the
    // reference's rule: firing → ERROR, resolved → INFO.
    let severity = severity_from_label(view.label("severity").as_deref()).unwrap_or_else(|| {
        if view.label("alertname").as_deref() == Some("DatasourceNoData") {
            "NOT_AVAILABLE".into()
        } else if view.resolved() {
            "INFO".into()
        } else {
            "ERROR".into()
        }
    });
    let mut event = view.event(PROVIDER, Some(severity));
    event.title =
        Some(view.title().or_else(|| context.title.map(str::to_string)).unwrap_or_else(|| "no title".into()));
    // Grafana's DatasourceError/DatasourceNoData alerts carry the failing rule as `rulename`.
    event.rule = view.label("rulename").or_else(|| view.label("alertname"));
    event.description = match (view.description(), value_string) {
        (Some(text), Some(values)) => Some(format!("{text}\n\nValues: {values}")),
        (None, Some(values)) => Some(format!("Values: {values}")),
        (text, None) => text.or_else(|| context.message.map(str::to_string)),
    };
    event.image_url = image_url.map(str::to_string);

    let info = &mut event.additional_info;
    for (key, url) in urls {
        if let Some(url) = url {
            insert_if_free(info, key, Value::String(url.to_string()));
        }
    }
    if let Some(values) = values {
        insert_if_free(info, "values", Value::Object(values.clone()));
    }
    if let Some(value_string) = value_string {
        insert_if_free(info, "value_string", Value::String(value_string.to_string()));
    }
    if let Some(image_url) = image_url {
        insert_if_free(info, "image_url", Value::String(image_url.to_string()));
    }
    if let Some(org_id) = &context.org_id {
        insert_if_free(info, "org_id", Value::String(org_id.clone()));
    }
    Ok(event)
}

fn legacy(body: &Value) -> Result<ParsedEvent, ParseError> {
    let field = |key: &str| optional_str(body, key, "the payload's");
    let state = field("state")?
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::new("'state' is required: alerting, ok, no_data, paused or pending"))?;
    let rule_name = field("ruleName")?.map(str::trim).filter(|s| !s.is_empty());
    let ids = [
        ("org_id", optional_id(body, "orgId")?),
        ("dashboard_id", optional_id(body, "dashboardId")?),
        ("panel_id", optional_id(body, "panelId")?),
        ("rule_id", optional_id(body, "ruleId")?),
    ];
    let part = |i: usize| ids[i].1.as_deref().unwrap_or("");
    // The reference keys a legacy alert by its dashboard, panel, rule and org.
    let event_key = match (&ids[3].1, rule_name) {
        (Some(_), _) => stable_key(&["grafana-legacy", part(0), part(1), part(2), part(3)]),
        (None, Some(name)) => stable_key(&["grafana-legacy-rule", part(0), name]),
        (None, None) => {
            return Err(ParseError::new(
                "a legacy Grafana alert needs a 'ruleId' or a 'ruleName' to be told apart",
            ));
        }
    };
    let eval_matches = match body.get("evalMatches") {
        None | Some(Value::Null) => None,
        Some(matches @ Value::Array(_)) => Some(matches),
        Some(other) => {
            return Err(ParseError::new(format!("'evalMatches' must be a list, not {}", json_kind(other))));
        }
    };
    let tags = optional_object(body, "tags", "the payload's")?;

    let mut info = Map::new();
    info.insert("state".into(), Value::String(state.clone()));
    for (key, id) in &ids {
        if let Some(id) = id {
            info.insert((*key).into(), Value::String(id.clone()));
        }
    }
    if let Some(name) = rule_name {
        info.insert("rule_name".into(), Value::String(name.into()));
    }
    if let Some(url) = field("ruleUrl")? {
        info.insert("rule_url".into(), Value::String(url.into()));
    }
    if let Some(matches) = eval_matches {
        // As the reference stores it: the list as JSON text.
        info.insert("eval_matches".into(), Value::String(matches.to_string()));
    }
    for (name, value) in tags.into_iter().flatten() {
        insert_if_free(&mut info, name, value.clone());
    }

    let title = field("title")?.map(strip_state_prefix).filter(|t| !t.is_empty()).or(rule_name);
    Ok(ParsedEvent {
        event_key: Some(event_key),
        event_type: Some(if state == "ok" { "RECOVERY" } else { "ALERT" }.into()),
        title: Some(title.unwrap_or("Grafana alert").to_string()),
        description: field("message")?.map(str::to_string),
        severity: Some(legacy_severity(&state).into()),
        rule: rule_name.map(str::to_string),
        resource: None,
        provider: Some(PROVIDER.into()),
        account: None,
        image_url: field("imageUrl")?.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        // The legacy body carries no time: the service uses the time it was received.
        occurred_at: None,
        additional_info: info,
        raw_data: body.clone(),
        // Nothing in a legacy body tells one notification from its redelivery.
        auto_resolve_after_ms: None,
        dedup_key: None,
    })
}

/// The reference's state → severity, except `no_data`, which we rate NOT_AVAILABLE (the
/// monitor cannot tell) where the reference says NONE.
fn legacy_severity(state: &str) -> &'static str {
    match state {
        "alerting" => "ERROR",
        "ok" => "INFO",
        "no_data" => "NOT_AVAILABLE",
        _ => "NONE",
    }
}

/// An id member (`orgId`, `ruleId`, …) as text; numbers are written without a fraction.
fn optional_id(body: &Value, key: &str) -> Result<Option<String>, ParseError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ (Value::String(_) | Value::Number(_))) => Ok(id_text(value)),
        Some(other) => {
            Err(ParseError::new(format!("'{key}' must be a number or a string, not {}", json_kind(other))))
        }
    }
}

/// The title without the state Grafana prefixes it with: `[Alerting]`, `[OK]`,
/// `[No Data]` (legacy) or `[FIRING:2]`, `[RESOLVED]`, `[FIRING:1, RESOLVED:1]` (unified).
fn strip_state_prefix(title: &str) -> &str {
    let trimmed = title.trim();
    if let Some(rest) = trimmed.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            if is_state_code(&rest[..end]) {
                return rest[end + 1..].trim();
            }
        }
    }
    trimmed
}

fn is_state_code(code: &str) -> bool {
    let word = |w: &str| {
        ["alerting", "ok", "no data", "pending", "paused", "firing", "resolved"]
            .iter()
            .any(|s| w.eq_ignore_ascii_case(s))
    };
    code.split(',').all(|part| match part.trim().split_once(':') {
        Some((state, count)) => word(state) && !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()),
        None => word(part.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UNIFIED_FIRING: &str = include_str!("../../../tests/fixtures/grafana/unified-firing-two.json");
    const UNIFIED_RESOLVED: &str = include_str!("../../../tests/fixtures/grafana/unified-resolved-one.json");
    const LEGACY_ALERTING: &str = include_str!("../../../tests/fixtures/grafana/legacy-alerting.json");
    const LEGACY_OK: &str = include_str!("../../../tests/fixtures/grafana/legacy-ok.json");
    const LEGACY_NO_DATA: &str = include_str!("../../../tests/fixtures/grafana/legacy-no-data.json");

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn unified_notification_gives_one_event_per_alert() {
        let body = fixture(UNIFIED_FIRING);
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 2);
        let e = &events[0];
        assert_eq!(e.event_key.as_deref(), Some("c6eadffa33fcdf37"));
        assert_eq!(e.event_type.as_deref(), Some("ALERT"));
        assert_eq!(e.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(e.title.as_deref(), Some("Memory above 90% on web-1"));
        assert!(e
            .description
            .as_deref()
            .unwrap()
            .starts_with("The system has high memory usage\n\nValues: [ var='B'"));
        assert_eq!(e.rule.as_deref(), Some("High memory usage"));
        assert_eq!(e.provider.as_deref(), Some("grafana"));
        assert_eq!(
            e.image_url.as_deref(),
            Some("https://grafana.example.com/public/img/attachments/yo4maLzA629Oh24c1g1g.png")
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T14:51:03.157Z"));
        assert_eq!(e.resource.as_ref().unwrap().resource_id, "web-1:9100");
        assert_eq!(e.raw_data, body["alerts"][0]);
        assert_eq!(e.dedup_key.as_deref(), Some("c6eadffa33fcdf37:firing:2026-11-22T14:51:03.157Z"));
        let info = &e.additional_info;
        assert_eq!(
            info["panel_url"],
            json!("https://grafana.example.com/d/node-exporter?orgId=1&viewPanel=4")
        );
        assert_eq!(info["dashboard_url"], json!("https://grafana.example.com/d/node-exporter?orgId=1"));
        assert!(info["silence_url"].as_str().unwrap().contains("/alerting/silence/new"));
        assert_eq!(info["values"]["C"], json!(1));
        assert_eq!(info["org_id"], json!("1"));
        assert_eq!(info["team"], json!("blue"));
        assert_eq!(info["runbook_url"], json!("https://runbooks.example.com/memory"));
    }

    #[test]
    fn unified_alert_without_severity_label_is_error_while_firing() {
        let e = parse(&fixture(UNIFIED_FIRING)).unwrap().remove(1);
        assert_eq!(e.severity.as_deref(), Some("ERROR"));
        // No summary: the alert rule's name is the title.
        assert_eq!(e.title.as_deref(), Some("High CPU usage"));
        assert_eq!(e.image_url, None);
        assert_eq!(e.resource, None);
        assert!(!e.additional_info.contains_key("panel_url"), "empty URLs are left out");
    }

    #[test]
    fn resolved_alert_maps_to_recovery_with_same_event_key() {
        let firing = parse(&fixture(UNIFIED_FIRING)).unwrap().remove(0);
        let resolved = parse(&fixture(UNIFIED_RESOLVED)).unwrap().remove(0);
        assert_eq!(resolved.event_type.as_deref(), Some("RECOVERY"));
        assert_eq!(resolved.event_key, firing.event_key);
        assert_eq!(resolved.occurred_at.as_deref(), Some("2026-11-22T15:06:03.157Z"));
        assert_eq!(resolved.dedup_key.as_deref(), Some("c6eadffa33fcdf37:resolved:2026-11-22T15:06:03.157Z"));
    }

    #[test]
    fn resolved_alert_without_severity_label_is_info() {
        let body = json!({"orgId": 1, "alerts": [{"status": "resolved", "labels": {"alertname": "A"}, "fingerprint": "f"}]});
        assert_eq!(parse(&body).unwrap()[0].severity.as_deref(), Some("INFO"));
    }

    #[test]
    fn datasource_no_data_alert_is_not_available_and_names_its_rule() {
        let body = json!({"orgId": 1, "title": "[FIRING:1] cpu", "message": "**Firing**\n\nthe datasource returned no data",
            "alerts": [{"status": "firing", "fingerprint": "f0",
                "labels": {"alertname": "DatasourceNoData", "rulename": "CPU high", "datasource_uid": "abc"},
                "annotations": {}, "valueString": ""}]});
        let e = parse(&body).unwrap().remove(0);
        assert_eq!(e.severity.as_deref(), Some("NOT_AVAILABLE"));
        assert_eq!(e.rule.as_deref(), Some("CPU high"));
        assert_eq!(e.title.as_deref(), Some("DatasourceNoData"));
        // A lone alert without annotations borrows the notification's message.
        assert_eq!(e.description.as_deref(), Some("**Firing**\n\nthe datasource returned no data"));
    }

    #[test]
    fn untitled_alert_takes_the_notification_title_without_its_state() {
        let body = json!({"title": "[FIRING:1, RESOLVED:1] disk (blue)", "alerts": [{"fingerprint": "f"}]});
        assert_eq!(parse(&body).unwrap()[0].title.as_deref(), Some("disk (blue)"));
        assert_eq!(strip_state_prefix("[RESOLVED] x"), "x");
        assert_eq!(strip_state_prefix("[No Data] Panel alert"), "Panel alert");
        assert_eq!(strip_state_prefix("[prod] Panel alert"), "[prod] Panel alert");
    }

    #[test]
    fn legacy_alerting_maps_every_field() {
        let body = fixture(LEGACY_ALERTING);
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_type.as_deref(), Some("ALERT"));
        assert_eq!(e.severity.as_deref(), Some("ERROR"));
        assert_eq!(e.title.as_deref(), Some("Panel Title alert"));
        assert_eq!(e.description.as_deref(), Some("Notification Message"));
        assert_eq!(e.rule.as_deref(), Some("Panel Title alert"));
        assert_eq!(e.image_url.as_deref(), Some("https://grafana.com/assets/img/blog/mixed_styles.png"));
        assert_eq!(e.provider.as_deref(), Some("grafana"));
        assert_eq!(e.occurred_at, None);
        assert_eq!(e.dedup_key, None);
        assert_eq!(e.raw_data, body);
        assert_eq!(e.event_key.as_ref().unwrap().len(), 32);
        let info = &e.additional_info;
        assert_eq!(info["dashboard_id"], json!("1"));
        assert_eq!(info["panel_id"], json!("2"));
        assert_eq!(info["rule_id"], json!("1"));
        assert_eq!(info["org_id"], json!("1"));
        assert_eq!(info["state"], json!("alerting"));
        assert_eq!(info["eval_matches"], json!(r#"[{"metric":"Count","tags":{},"value":1}]"#));
        assert_eq!(info["tag name"], json!("tag value"));
        assert!(info["rule_url"].as_str().unwrap().starts_with("http://localhost:3000/d/hZ7BuVbWz"));
    }

    #[test]
    fn legacy_ok_maps_to_recovery_with_same_event_key() {
        let alerting = parse(&fixture(LEGACY_ALERTING)).unwrap().remove(0);
        let ok = parse(&fixture(LEGACY_OK)).unwrap().remove(0);
        assert_eq!(ok.event_type.as_deref(), Some("RECOVERY"));
        assert_eq!(ok.severity.as_deref(), Some("INFO"));
        assert_eq!(ok.title.as_deref(), Some("Panel Title alert"));
        assert_eq!(ok.image_url, None);
        assert_eq!(ok.event_key, alerting.event_key);
    }

    #[test]
    fn legacy_no_data_is_an_alert_with_not_available_severity() {
        let e = parse(&fixture(LEGACY_NO_DATA)).unwrap().remove(0);
        assert_eq!(e.event_type.as_deref(), Some("ALERT"));
        assert_eq!(e.severity.as_deref(), Some("NOT_AVAILABLE"));
        assert_eq!(e.title.as_deref(), Some("Panel Title alert"));
    }

    #[test]
    fn legacy_states_the_reference_does_not_rate_are_none() {
        for state in ["paused", "pending", "alert"] {
            let e = parse(&json!({"ruleId": 5, "ruleName": "r", "state": state})).unwrap().remove(0);
            assert_eq!(
                (e.event_type.as_deref(), e.severity.as_deref()),
                (Some("ALERT"), Some("NONE")),
                "{state}"
            );
        }
    }

    #[test]
    fn legacy_key_ignores_how_ids_are_written() {
        // A body relayed through protobuf arrives with floats: 1.0 is the same rule as 1.
        let ints = json!({"orgId": 1, "dashboardId": 58, "panelId": 5, "ruleId": 93, "state": "alerting"});
        let floats: Value = serde_json::from_str(
            r#"{"orgId": 1.0, "dashboardId": 58.0, "panelId": 5.0, "ruleId": 93.0, "state": "ok"}"#,
        )
        .unwrap();
        let other = json!({"orgId": 1, "dashboardId": 58, "panelId": 6, "ruleId": 93, "state": "alerting"});
        let key = |body: &Value| parse(body).unwrap().remove(0).event_key.unwrap();
        assert_eq!(key(&ints), key(&floats));
        assert_ne!(key(&ints), key(&other));
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let error = |body: Value| parse(&body).unwrap_err().0;
        assert!(error(json!([1])).contains("must be a JSON object, not a list"));
        assert!(error(json!({"foo": 1})).starts_with("not a Grafana webhook payload"));
        assert_eq!(
            error(json!({"orgId": 1, "alerts": "x"})),
            "'alerts' must be a list of alert objects, not a string"
        );
        assert!(error(json!({"orgId": 1, "alerts": []})).contains("empty"));
        assert!(error(json!({"orgId": 1, "alerts": [null]}))
            .starts_with("alert #0: an alert must be a JSON object"));
        assert!(error(json!({"alerts": [{"values": [1]}]})).contains("'values' must be an object"));
        assert!(error(json!({"alerts": [{"imageURL": 3}]})).contains("'imageURL' must be a string"));
        assert!(error(json!({"orgId": {}, "alerts": [{}]})).contains("'orgId' must be a number or a string"));
        assert!(error(json!({"ruleName": "r"})).starts_with("'state' is required"));
        assert!(error(json!({"ruleName": "r", "state": 1})).contains("'state' must be a string"));
        assert!(error(json!({"state": "alerting"})).contains("'ruleId' or a 'ruleName'"));
        assert!(error(json!({"ruleId": 1, "state": "ok", "evalMatches": {}}))
            .contains("'evalMatches' must be a list"));
        assert!(error(json!({"ruleId": 1, "state": "ok", "tags": "a"})).contains("'tags' must be an object"));
    }

    #[test]
    fn every_fixture_parses_through_auto_detection() {
        for text in [UNIFIED_FIRING, UNIFIED_RESOLVED, LEGACY_ALERTING, LEGACY_OK, LEGACY_NO_DATA] {
            let body = fixture(text);
            assert_eq!(super::super::detect(&body), crate::model::WebhookFormat::Grafana);
            let auto = super::super::parse(crate::model::WebhookFormat::Auto, &body).unwrap();
            assert_eq!(auto, parse(&body).unwrap());
        }
    }
}
