//! Prometheus Alertmanager's webhook (payload version 4): one event per alert in
//! `alerts`. Mapping rules follow cloudforet-io/plugin-prometheus-mon-webhook where it
//! has them; `docs/formats.md` lists each rule and where it comes from.
//!
//! Grafana's unified alerting webhook sends the same body with a few more fields, so
//! the per-alert reading here ([`AlertView`]) is shared with `grafana.rs`.

use serde_json::{Map, Value};

use super::json::{insert_if_free, json_kind, optional_object, optional_str, sender_time, stable_key};
use super::{ParseError, ParsedEvent};
use crate::model::Resource;

pub const PROVIDER: &str = "prometheus";

/// Labels that name the thing an alert is about, most specific first: the first one an
/// alert carries becomes its resource (the reference's order, without `phase`,
/// `severity` and `alertname`, which name no resource, and with the usual host labels).
const RESOURCE_LABELS: &[&str] = &[
    "resource",
    "grpc_method",
    "instance",
    "hostname",
    "host",
    "pod",
    "container",
    "node",
    "device",
    "persistentvolumeclaim",
    "persistentvolume",
    "deployment",
    "daemonset",
    "statefulset",
    "horizontalpodautoscaler",
    "service",
    "controller",
    "job",
    "namespace",
    "prometheus",
];

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    let alerts = alert_list(body, "an Alertmanager")?;
    let group = Group::of(body)?;
    alerts
        .iter()
        .enumerate()
        .map(|(i, alert)| {
            let view = AlertView::read(alert, &group).map_err(|e| at(i, e))?;
            // The reference rates an alert without a severity label INFO.
            let severity =
                severity_from_label(view.label("severity").as_deref()).unwrap_or_else(|| "INFO".into());
            Ok(view.event(PROVIDER, Some(severity)))
        })
        .collect()
}

/// `alert #i: …`, so a sender knows which alert of a group to fix.
pub(super) fn at(index: usize, error: ParseError) -> ParseError {
    ParseError::new(format!("alert #{index}: {}", error.0))
}

/// The body's `alerts`, which must be a non-empty list.
pub(super) fn alert_list<'a>(body: &'a Value, sender: &str) -> Result<&'a Vec<Value>, ParseError> {
    let Value::Object(map) = body else {
        return Err(ParseError::new(format!(
            "{sender} webhook payload must be a JSON object with an 'alerts' list, not {}",
            json_kind(body)
        )));
    };
    match map.get("alerts") {
        None | Some(Value::Null) => Err(ParseError::new(format!(
            "'alerts' is missing: {sender} webhook payload carries its alerts in an 'alerts' list"
        ))),
        Some(Value::Array(alerts)) if alerts.is_empty() => {
            Err(ParseError::new("'alerts' is an empty list: the payload carries no alerts"))
        }
        Some(Value::Array(alerts)) => Ok(alerts),
        Some(other) => Err(ParseError::new(format!(
            "'alerts' must be a list of alert objects, not {}",
            json_kind(other)
        ))),
    }
}

/// The notification-level fields every alert of one body shares.
pub(super) struct Group<'a> {
    status: Option<&'a str>,
    receiver: Option<&'a str>,
    external_url: Option<&'a str>,
    group_key: Option<&'a str>,
}

impl<'a> Group<'a> {
    pub(super) fn of(body: &'a Value) -> Result<Self, ParseError> {
        Ok(Group {
            status: optional_str(body, "status", "the payload's")?,
            receiver: optional_str(body, "receiver", "the payload's")?,
            external_url: optional_str(body, "externalURL", "the payload's")?,
            group_key: optional_str(body, "groupKey", "the payload's")?,
        })
    }
}

/// One alert of an Alertmanager-shaped body, checked and read.
pub(super) struct AlertView<'a> {
    pub alert: &'a Value,
    labels: Option<&'a Map<String, Value>>,
    annotations: Option<&'a Map<String, Value>>,
    /// Lowercase `firing` / `resolved` (or whatever the sender wrote); the alert's own
    /// status, else the notification's, else `firing`.
    status: String,
    /// The alert's `fingerprint`, or a hash of its sorted labels when it has none.
    key: String,
    starts_at: Option<&'a str>,
    ends_at: Option<&'a str>,
    group: &'a Group<'a>,
}

impl<'a> AlertView<'a> {
    pub(super) fn read(alert: &'a Value, group: &'a Group<'a>) -> Result<Self, ParseError> {
        if !alert.is_object() {
            return Err(ParseError::new(format!("an alert must be a JSON object, not {}", json_kind(alert))));
        }
        let labels = optional_object(alert, "labels", "the alert's")?;
        let annotations = optional_object(alert, "annotations", "the alert's")?;
        let status = optional_str(alert, "status", "the alert's")?
            .or(group.status)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "firing".to_string());
        let fingerprint =
            optional_str(alert, "fingerprint", "the alert's")?.map(str::trim).filter(|f| !f.is_empty());
        let key = match fingerprint {
            Some(f) => f.to_string(),
            None => labels_key(labels),
        };
        Ok(AlertView {
            alert,
            labels,
            annotations,
            status,
            key,
            starts_at: optional_str(alert, "startsAt", "the alert's")?,
            ends_at: optional_str(alert, "endsAt", "the alert's")?,
            group,
        })
    }

    /// A label's text, if present and not blank.
    pub(super) fn label(&self, name: &str) -> Option<String> {
        self.labels.and_then(|m| member_text(m, name))
    }

    /// An annotation's text, if present and not blank.
    pub(super) fn annotation(&self, name: &str) -> Option<String> {
        self.annotations.and_then(|m| member_text(m, name))
    }

    pub(super) fn resolved(&self) -> bool {
        self.status == "resolved"
    }

    /// When the change happened: the end of a resolved alert, else its start.
    fn change_time(&self) -> Option<String> {
        let ends_at = if self.resolved() { self.ends_at.and_then(sender_time) } else { None };
        ends_at.or_else(|| self.starts_at.and_then(sender_time))
    }

    /// summary → alertname → the reference's "no title".
    pub(super) fn title(&self) -> Option<String> {
        self.annotation("summary").or_else(|| self.label("alertname"))
    }

    /// description → message → summary.
    pub(super) fn description(&self) -> Option<String> {
        self.annotation("description")
            .or_else(|| self.annotation("message"))
            .or_else(|| self.annotation("summary"))
    }

    /// The first label of [`RESOURCE_LABELS`] the alert carries: its value is the
    /// resource's id and name, the label's name its type.
    pub(super) fn resource(&self) -> Option<Resource> {
        RESOURCE_LABELS.iter().find_map(|&name| {
            self.label(name).map(|value| Resource {
                resource_id: value.clone(),
                resource_type: name.to_string(),
                name: value,
            })
        })
    }

    /// Labels under their own names; annotations under their own names, or
    /// `annotation_<name>` when a label has the name; then the alert's and the
    /// notification's own fields (snake_case), where the name is still free.
    pub(super) fn additional_info(&self) -> Map<String, Value> {
        let mut info = Map::new();
        if let Some(labels) = self.labels {
            info.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(annotations) = self.annotations {
            for (name, value) in annotations {
                if info.contains_key(name) {
                    insert_if_free(&mut info, &format!("annotation_{name}"), value.clone());
                } else {
                    info.insert(name.clone(), value.clone());
                }
            }
        }
        let own = [
            ("fingerprint", self.alert.get("fingerprint")),
            ("status", Some(&Value::String(self.status.clone()))),
            ("starts_at", self.alert.get("startsAt")),
            ("ends_at", self.alert.get("endsAt")),
            ("generator_url", self.alert.get("generatorURL")),
        ];
        for (key, value) in own {
            if let Some(value) = value.filter(|v| !v.is_null()) {
                insert_if_free(&mut info, key, value.clone());
            }
        }
        let group = [
            ("receiver", self.group.receiver),
            ("external_url", self.group.external_url),
            ("group_key", self.group.group_key),
        ];
        for (key, value) in group {
            if let Some(value) = value {
                insert_if_free(&mut info, key, Value::String(value.to_string()));
            }
        }
        info
    }

    /// The event every Alertmanager-shaped alert maps to; `severity` is the sender's rule.
    pub(super) fn event(&self, provider: &str, severity: Option<String>) -> ParsedEvent {
        let time = self.change_time();
        let dedup_key = format!("{}:{}:{}", self.key, self.status, time.as_deref().unwrap_or_default());
        ParsedEvent {
            event_key: Some(self.key.clone()),
            event_type: Some(if self.resolved() { "RECOVERY" } else { "ALERT" }.to_string()),
            title: Some(self.title().unwrap_or_else(|| "no title".to_string())),
            description: self.description(),
            severity,
            rule: self.label("alertname"),
            resource: self.resource(),
            provider: Some(provider.to_string()),
            account: None,
            image_url: None,
            occurred_at: time,
            additional_info: self.additional_info(),
            raw_data: self.alert.clone(),
            auto_resolve_after_ms: None,
            dedup_key: Some(dedup_key),
        }
    }
}

/// A member of a labels/annotations map as text, if not blank.
fn member_text(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The key of an alert without a fingerprint: a hash of its labels, sorted by name
/// (a label set is how Alertmanager itself tells alerts apart).
fn labels_key(labels: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<(&str, String)> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    pairs.sort();
    let mut parts = Vec::with_capacity(1 + 2 * pairs.len());
    parts.push("alertmanager-labels");
    for (k, v) in &pairs {
        parts.push(k);
        parts.push(v);
    }
    stable_key(&parts)
}

/// A `severity` label as an Event severity, case-insensitively: `None` when the alert
/// has no such label (each sender has its own default); unknown words are passed on as
/// written, and the service stores them as `NOT_AVAILABLE`.
pub(crate) fn severity_from_label(label: Option<&str>) -> Option<String> {
    let raw = label.map(str::trim).filter(|s| !s.is_empty())?;
    Some(severity_word(raw).map_or_else(|| raw.to_string(), str::to_string))
}

/// The Event severity a monitoring system's severity word stands for, if known.
pub(crate) fn severity_word(word: &str) -> Option<&'static str> {
    let word = word.trim().to_ascii_lowercase();
    Some(match word.as_str() {
        "critical" | "crit" | "page" | "fatal" | "emergency" | "emerg" | "alert" | "disaster" => "CRITICAL",
        "error" | "err" | "high" | "major" | "severe" => "ERROR",
        "warning" | "warn" | "medium" | "minor" => "WARNING",
        "info" | "informational" | "information" | "low" | "notice" | "none" | "ok" | "debug" => "INFO",
        "not_available" => "NOT_AVAILABLE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIRING_CRITICAL: &str =
        include_str!("../../../tests/fixtures/alertmanager/firing-single-critical.json");
    const FIRING_WARNING: &str =
        include_str!("../../../tests/fixtures/alertmanager/firing-single-warning.json");
    const FIRING_GROUPED: &str = include_str!("../../../tests/fixtures/alertmanager/firing-grouped-two.json");
    const RESOLVED: &str = include_str!("../../../tests/fixtures/alertmanager/resolved-single.json");

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn one(text: &str) -> ParsedEvent {
        let mut events = parse(&fixture(text)).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn firing_alert_maps_every_field() {
        let body = fixture(FIRING_CRITICAL);
        let e = one(FIRING_CRITICAL);
        assert_eq!(e.event_key.as_deref(), Some("ab906f89a7cb9bdc"));
        assert_eq!(e.event_type.as_deref(), Some("ALERT"));
        assert_eq!(e.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(e.title.as_deref(), Some("CPU above 90% on web-1"));
        assert_eq!(e.description.as_deref(), Some("CPU usage is 97% for 5 minutes"));
        assert_eq!(e.rule.as_deref(), Some("HighCPU"));
        assert_eq!(e.provider.as_deref(), Some("prometheus"));
        assert_eq!(e.occurred_at.as_deref(), Some("2026-11-22T15:54:27.000Z"));
        let resource = e.resource.unwrap();
        assert_eq!(
            (resource.resource_id.as_str(), resource.resource_type.as_str(), resource.name.as_str()),
            ("web-1:9100", "instance", "web-1:9100")
        );
        assert_eq!(e.raw_data, body["alerts"][0]);
        assert_eq!(e.dedup_key.as_deref(), Some("ab906f89a7cb9bdc:firing:2026-11-22T15:54:27.000Z"));
    }

    #[test]
    fn labels_annotations_and_alert_fields_land_in_additional_info() {
        let info = one(FIRING_CRITICAL).additional_info;
        assert_eq!(info["alertname"], json!("HighCPU"));
        assert_eq!(info["job"], json!("node"));
        assert_eq!(info["severity"], json!("critical"));
        assert_eq!(info["summary"], json!("CPU above 90% on web-1"));
        assert_eq!(info["description"], json!("CPU usage is 97% for 5 minutes"));
        assert_eq!(info["generator_url"], json!("http://prometheus.local:9090/graph?g0.expr=cpu"));
        assert_eq!(info["ends_at"], json!("0001-01-01T00:00:00Z"));
        assert_eq!(info["fingerprint"], json!("ab906f89a7cb9bdc"));
        assert_eq!(info["status"], json!("firing"));
        assert_eq!(info["receiver"], json!("events"));
        assert_eq!(info["external_url"], json!("http://vm:9093"));
    }

    #[test]
    fn an_annotation_named_like_a_label_keeps_both() {
        let body =
            json!({"alerts": [{"labels": {"summary": "label"}, "annotations": {"summary": "annotation"}}]});
        let info = parse(&body).unwrap().remove(0).additional_info;
        assert_eq!(info["summary"], json!("label"));
        assert_eq!(info["annotation_summary"], json!("annotation"));
    }

    #[test]
    fn resolved_alert_maps_to_recovery_with_same_event_key() {
        let firing = one(FIRING_CRITICAL);
        let resolved = one(RESOLVED);
        assert_eq!(resolved.event_type.as_deref(), Some("RECOVERY"));
        assert_eq!(resolved.event_key, firing.event_key);
        assert_eq!(resolved.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(resolved.occurred_at.as_deref(), Some("2026-11-22T15:54:32.000Z"));
        assert_eq!(resolved.dedup_key.as_deref(), Some("ab906f89a7cb9bdc:resolved:2026-11-22T15:54:32.000Z"));
        assert_ne!(resolved.dedup_key, firing.dedup_key);
    }

    #[test]
    fn grouped_notification_gives_one_event_per_alert() {
        let body = fixture(FIRING_GROUPED);
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event_key.as_deref(), Some("c1869ccd32af1273"));
        assert_eq!(events[1].event_key.as_deref(), Some("14976f7b0ab9cb78"));
        assert_eq!(events[0].title.as_deref(), Some("Filesystem /dev/sda1 is read-only"));
        assert_eq!(events[1].title.as_deref(), Some("Filesystem /dev/sdb1 is read-only"));
        assert_eq!(events[1].additional_info["device"], json!("/dev/sdb1"));
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.raw_data, body["alerts"][i]);
            assert_eq!(e.rule.as_deref(), Some("FsReadOnly"));
            assert_eq!(e.resource.as_ref().unwrap().resource_type, "instance");
        }
        assert_ne!(events[0].dedup_key, events[1].dedup_key);
    }

    #[test]
    fn redelivery_from_an_ha_peer_with_another_external_url_has_the_same_dedup_key() {
        let first = fixture(FIRING_CRITICAL);
        let mut peer = first.clone();
        peer["externalURL"] = json!("http://alertmanager-1.monitoring:9093");
        peer["receiver"] = json!("events-peer");
        let a = parse(&first).unwrap().remove(0);
        let b = parse(&peer).unwrap().remove(0);
        assert_eq!(a.dedup_key, b.dedup_key);
        assert_eq!(a.event_key, b.event_key);
        assert_ne!(a.additional_info["external_url"], b.additional_info["external_url"]);
    }

    #[test]
    fn warning_label_maps_to_warning_and_missing_description_falls_back_to_summary() {
        let e = one(FIRING_WARNING);
        assert_eq!(e.severity.as_deref(), Some("WARNING"));
        assert_eq!(e.title.as_deref(), Some("Disk 85% full on db-1"));
        assert_eq!(e.description.as_deref(), Some("Disk 85% full on db-1"));
    }

    #[test]
    fn severity_words_map_case_insensitively_and_unknown_words_pass_through() {
        let severity = |label: Value| {
            let body =
                json!({"alerts": [{"labels": {"alertname": "A", "severity": label}, "fingerprint": "f"}]});
            parse(&body).unwrap().remove(0).severity.unwrap()
        };
        for (word, expected) in [
            ("Critical", "CRITICAL"),
            ("PAGE", "CRITICAL"),
            ("fatal", "CRITICAL"),
            ("emergency", "CRITICAL"),
            ("err", "ERROR"),
            ("High", "ERROR"),
            ("major", "ERROR"),
            ("warn", "WARNING"),
            ("medium", "WARNING"),
            ("minor", "WARNING"),
            ("informational", "INFO"),
            ("low", "INFO"),
            ("notice", "INFO"),
            ("none", "INFO"),
            ("P1", "P1"),
        ] {
            assert_eq!(severity(json!(word)), expected, "{word}");
        }
        assert_eq!(severity(json!(" ")), "INFO");
    }

    #[test]
    fn alert_without_severity_label_is_info_like_the_reference() {
        let body = json!({"alerts": [{"labels": {"alertname": "Watchdog"}, "fingerprint": "f1"}]});
        let e = parse(&body).unwrap().remove(0);
        assert_eq!(e.severity.as_deref(), Some("INFO"));
        assert_eq!(e.title.as_deref(), Some("Watchdog"));
        assert_eq!(e.description, None);
        assert_eq!(e.resource, None);
        assert_eq!(e.occurred_at, None);
        assert_eq!(e.dedup_key.as_deref(), Some("f1:firing:"));
    }

    #[test]
    fn alert_without_fingerprint_is_keyed_by_its_sorted_labels() {
        let a = json!({"alerts": [{"status": "firing", "labels": {"alertname": "A", "pod": "p-1"}}]});
        let b = json!({"alerts": [{"status": "resolved", "labels": {"pod": "p-1", "alertname": "A"}, "fingerprint": ""}]});
        let c = json!({"alerts": [{"labels": {"alertname": "A", "pod": "p-2"}}]});
        let key = |body: &Value| parse(body).unwrap().remove(0).event_key.unwrap();
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(key(&a).len(), 32);
    }

    #[test]
    fn status_falls_back_to_the_notification_status() {
        let body = json!({"status": "resolved", "alerts": [{"labels": {"alertname": "A"}, "fingerprint": "f",
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T00:05:00Z"}]});
        let e = parse(&body).unwrap().remove(0);
        assert_eq!(e.event_type.as_deref(), Some("RECOVERY"));
        assert_eq!(e.occurred_at.as_deref(), Some("2026-01-01T00:05:00.000Z"));
    }

    #[test]
    fn resource_prefers_the_most_specific_label() {
        let body = json!({"alerts": [{"labels": {"alertname": "KubePodNotReady", "namespace": "prometheus",
            "pod": "exporter-xp6jv", "prometheus": "default/k8s", "severity": "warning"}, "fingerprint": "f"}]});
        let resource = parse(&body).unwrap().remove(0).resource.unwrap();
        assert_eq!(
            (resource.resource_type.as_str(), resource.resource_id.as_str()),
            ("pod", "exporter-xp6jv")
        );
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let error = |body: Value| parse(&body).unwrap_err().0;
        assert!(error(json!("text")).contains("must be a JSON object"), "{}", error(json!("text")));
        assert!(error(json!({"receiver": "r"})).starts_with("'alerts' is missing"));
        assert!(error(json!({"alerts": null})).starts_with("'alerts' is missing"));
        assert_eq!(
            error(json!({"alerts": {"a": 1}})),
            "'alerts' must be a list of alert objects, not an object"
        );
        assert!(error(json!({"alerts": []})).contains("empty"));
        assert_eq!(
            error(json!({"alerts": [{"labels": {}}, 3]})),
            "alert #1: an alert must be a JSON object, not a number"
        );
        assert_eq!(
            error(json!({"alerts": [{"labels": ["a"]}]})),
            "alert #0: the alert's 'labels' must be an object, not a list"
        );
        assert!(error(json!({"alerts": [{"annotations": "x"}]})).contains("'annotations' must be an object"));
        assert!(error(json!({"alerts": [{"fingerprint": 12}]})).contains("'fingerprint' must be a string"));
        assert!(error(json!({"alerts": [{"startsAt": 1700000000}]})).contains("'startsAt' must be a string"));
        assert!(error(json!({"alerts": [{}], "status": ["firing"]})).contains("'status' must be a string"));
    }

    #[test]
    fn every_fixture_parses_through_auto_detection() {
        for text in [FIRING_CRITICAL, FIRING_WARNING, FIRING_GROUPED, RESOLVED] {
            let body = fixture(text);
            let auto = super::super::parse(crate::model::WebhookFormat::Auto, &body).unwrap();
            assert_eq!(auto, parse(&body).unwrap());
        }
    }
}
