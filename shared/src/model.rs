//! The resources of the service as the API shows them: Event (EventInfo), Alert, Webhook.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// `{resource_id, resource_type, name}` of the thing an event is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(default)]
    pub resource_id: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub name: String,
}

impl Resource {
    pub fn is_empty(&self) -> bool {
        self.resource_id.is_empty() && self.resource_type.is_empty() && self.name.is_empty()
    }
}

/// EventInfo, exactly as get/list render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: String,
    pub event_key: String,
    pub event_type: EventType,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub rule: String,
    pub resource: Resource,
    pub provider: String,
    pub account: String,
    pub image_url: String,
    pub raw_data: serde_json::Value,
    /// True when raw_data was stored in chunk items and one of them is gone (TTL deletes
    /// items each on its own time): raw_data is then null. Absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_data_missing: bool,
    pub additional_info: BTreeMap<String, String>,
    pub alert_id: String,
    pub webhook_id: String,
    pub project_id: String,
    pub workspace_id: String,
    pub domain_id: String,
    pub created_at: String,
    pub occurred_at: String,
    /// What the domain's event rules did to it; absent when none matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_rules: Option<RulesApplied>,
}

/// What the rules did to an event, kept on it (`event_rules` in EventInfo) and read by
/// the link to its alert (`event_rule`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RulesApplied {
    /// The rules that matched, in the order they ran.
    pub matched: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_notification: bool,
    /// The rule (a maintenance window) that suppressed this ALERT: it opened or joined no
    /// alert, and list and stat leave it out unless asked for suppressed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<String>,
}

impl Event {
    /// Whether a rule suppressed this event.
    pub fn suppressed(&self) -> bool {
        self.event_rules.as_ref().is_some_and(|r| r.suppressed_by.is_some())
    }
}

/// The few fields of an event that the count index holds, rendered as in EventInfo:
/// enough for a stat that groups and filters on nothing else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSummary {
    pub event_id: String,
    pub event_type: EventType,
    pub severity: Severity,
    pub project_id: String,
    pub workspace_id: String,
    pub domain_id: String,
    pub created_at: String,
}

impl EventSummary {
    /// The top-level EventInfo fields a summary carries.
    pub const FIELDS: [&'static str; 7] =
        ["event_id", "event_type", "severity", "project_id", "workspace_id", "domain_id", "created_at"];
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Case-insensitive, so `critical` and `Critical` are `CRITICAL`.
            fn from_str(text: &str) -> Result<Self, Error> {
                $(if text.eq_ignore_ascii_case($text) { return Ok($name::$variant); })+
                let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                Err(Error::invalid(format!(
                    "'{text}' is not a valid {}; allowed: {}",
                    stringify!($name),
                    allowed.join(", ")
                )))
            }
        }
    };
}

string_enum!(
    /// What an event says about its problem.
    EventType { Alert => "ALERT", Recovery => "RECOVERY", Error => "ERROR" }
);

string_enum!(
    /// How bad the problem is, as the monitor rates it.
    Severity {
        Critical => "CRITICAL",
        Error => "ERROR",
        Warning => "WARNING",
        Info => "INFO",
        NotAvailable => "NOT_AVAILABLE",
        None => "NONE",
    }
);

string_enum!(
    /// Whether a webhook accepts events.
    WebhookState { Enabled => "ENABLED", Disabled => "DISABLED" }
);

string_enum!(
    /// Life cycle of an alert.
    AlertState {
        Triggered => "TRIGGERED",
        Acknowledged => "ACKNOWLEDGED",
        Resolved => "RESOLVED",
        Error => "ERROR",
    }
);

string_enum!(
    /// How soon someone should look at an alert.
    Urgency { High => "HIGH", Low => "LOW" }
);

string_enum!(
    /// The payload format a webhook's sender posts: its built-in "plugin".
    WebhookFormat {
        Standard => "standard",
        Alertmanager => "alertmanager",
        Grafana => "grafana",
        AwsSns => "aws_sns",
        CloudEye => "cloud_eye",
        Aom => "aom",
        Auto => "auto",
    }
);

impl Severity {
    /// The reference opens HIGH-urgency alerts for these.
    pub fn urgency(self) -> Urgency {
        match self {
            Severity::Critical | Severity::Error | Severity::NotAvailable => Urgency::High,
            _ => Urgency::Low,
        }
    }
}

/// A webhook: the credentialed entry point of one monitor into one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub webhook_id: String,
    pub name: String,
    pub state: WebhookState,
    pub format: WebhookFormat,
    /// SHA-256 (hex) of the access key; the key itself is never stored.
    pub access_key_hash: String,
    pub project_id: String,
    pub workspace_id: String,
    pub domain_id: String,
    pub created_at: String,
    /// For SNS deliveries: refuse messages whose signature does not verify against the
    /// SNS signing certificate. On unless an operator turns it off.
    #[serde(default = "enabled")]
    pub verify_sns_signature: bool,
    /// What an SNS webhook accepts beyond a valid signature.
    #[serde(default)]
    pub sns_policy: SnsPolicy,
    /// The key a rotation replaced, still accepted until its grace period ends, so
    /// senders can be reconfigured without dropping alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<RetiredKey>,
    /// For senders that never say "resolved": an alert of this webhook resolves by
    /// itself this many seconds after its latest event (unless the event itself says
    /// when, as AOM's `timeout` does). None: alerts wait for their recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_resolve_after_seconds: Option<u64>,
    /// At most this many deliveries a minute are accepted; more are answered 503 with
    /// `Retry-After` (a sender retries those; SNS drops a message answered "too many
    /// requests").
    /// None: no limit beyond API Gateway's throttling of the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deliveries_per_minute: Option<u32>,
    /// Count this webhook's deliveries, answered as the Webhook API's `requests {total,
    /// error}`: one small write more per delivery, paid only by webhooks that turn it on.
    /// Off, `requests` counts the events the webhook stored instead.
    #[serde(default, skip_serializing_if = "is_false")]
    pub count_requests: bool,
    /// The sender delivers at least this often (a heartbeat): after this long without a
    /// delivery the sweep opens an alert, which the next delivery resolves. None: no
    /// tracking, and no cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_seconds: Option<u64>,
    /// SpaceONE's tags: labels people set on the Webhook API (text values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Narrowing what an SNS webhook accepts, for operators who want more than "signed by
/// SNS": any AWS account can sign a message to any HTTPS endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnsPolicy {
    /// Topics whose messages are accepted; empty accepts any topic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topic_arns: Vec<String>,
    /// Refuse `SignatureVersion` 1 (SHA1withRSA); topics publish version 2 once their
    /// `SignatureVersion` attribute says so.
    #[serde(default)]
    pub require_signature_v2: bool,
}

/// What the Webhook API's create, update and update-plugin set: each field given
/// replaces the webhook's (`Some(None)` clears an optional setting).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookSettings {
    pub name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub format: Option<WebhookFormat>,
    pub verify_sns_signature: Option<bool>,
    pub sns_topic_arns: Option<Vec<String>>,
    pub require_sns_signature_v2: Option<bool>,
    pub auto_resolve_after_seconds: Option<Option<u64>>,
    pub max_deliveries_per_minute: Option<Option<u32>>,
    pub count_requests: Option<bool>,
    /// Moves the webhook to another project of its domain (eventctl's `webhook update
    /// --project-id`; SpaceONE's update has no such field). Events stored before keep
    /// the project they were stored with.
    pub project_id: Option<String>,
    pub heartbeat_seconds: Option<Option<u64>>,
}

impl WebhookSettings {
    pub fn is_empty(&self) -> bool {
        *self == WebhookSettings::default()
    }

    /// `webhook` with these settings.
    pub fn apply(&self, webhook: &mut Webhook) {
        let settings = self.clone();
        webhook.name = settings.name.unwrap_or(std::mem::take(&mut webhook.name));
        webhook.tags = settings.tags.unwrap_or(std::mem::take(&mut webhook.tags));
        webhook.format = settings.format.unwrap_or(webhook.format);
        webhook.project_id = settings.project_id.unwrap_or(std::mem::take(&mut webhook.project_id));
        webhook.verify_sns_signature = settings.verify_sns_signature.unwrap_or(webhook.verify_sns_signature);
        if let Some(arns) = settings.sns_topic_arns {
            webhook.sns_policy.topic_arns = arns;
        }
        if let Some(v2) = settings.require_sns_signature_v2 {
            webhook.sns_policy.require_signature_v2 = v2;
        }
        if let Some(seconds) = settings.auto_resolve_after_seconds {
            webhook.auto_resolve_after_seconds = seconds.filter(|&s| s > 0);
        }
        if let Some(limit) = settings.max_deliveries_per_minute {
            webhook.max_deliveries_per_minute = limit.filter(|&n| n > 0);
        }
        webhook.count_requests = settings.count_requests.unwrap_or(webhook.count_requests);
        if let Some(heartbeat) = settings.heartbeat_seconds {
            webhook.heartbeat_seconds = heartbeat.filter(|&n| n > 0);
        }
    }
}

/// An access key on its way out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetiredKey {
    /// SHA-256 (hex) of the old key.
    pub access_key_hash: String,
    /// When the old key stops working (ISO 8601 UTC, as `created_at`).
    pub valid_until: String,
}

fn enabled() -> bool {
    true
}

fn is_false(value: &bool) -> bool {
    !value
}

/// An alert: the open problem that events with one event_key keep reporting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub alert_id: String,
    pub event_key: String,
    pub title: String,
    pub description: String,
    pub state: AlertState,
    pub urgency: Urgency,
    pub severity: Severity,
    pub webhook_id: String,
    pub project_id: String,
    pub workspace_id: String,
    pub domain_id: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub resolved_at: String,
    /// When the alert resolves by itself unless an event of its key comes first (API
    /// time); empty: never. Every event that joins it moves this on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auto_resolve_at: String,
    /// What the opening event was about, for AlertInfo.
    #[serde(default, skip_serializing_if = "Resource::is_empty")]
    pub resource: Resource,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account: String,
    /// When a person acknowledged it (the Alert API's update or update_state).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acknowledged_at: String,
    /// A person's note on the alert (update's `status_message`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_message: String,
    /// When a person last set its description: events older than this no longer
    /// replace it on read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description_set_at: String,
    /// An event rule's `no_notification`: whoever notifies from alerts leaves this one out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_notification: bool,
}

impl Alert {
    /// The alert as every reader sees it at `now`: past its auto_resolve_at an open
    /// alert is RESOLVED, resolved then, whether or not the sweep has written it down.
    pub fn as_of(mut self, now: &str) -> Alert {
        if self.expired(now) {
            self.state = AlertState::Resolved;
            self.resolved_at = self.auto_resolve_at.clone();
            self.updated_at = self.auto_resolve_at.clone();
        }
        self
    }

    /// Whether the alert is open only on paper: its auto-resolve time has passed.
    pub fn expired(&self, now: &str) -> bool {
        self.state != AlertState::Resolved
            && !self.auto_resolve_at.is_empty()
            && self.auto_resolve_at.as_str() <= now
    }
}

/// A new id: `prefix-` and 12 lowercase hex characters from the OS's random source.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::digest::random_hex(6))
}

/// Timestamps as the API writes them: ISO 8601 UTC with milliseconds.
pub fn format_time(time: DateTime<Utc>) -> String {
    // Years past 9999 (or before 0) print as `+10000-…`, which sorts wrongly against
    // stored times and breaks key ranges; no event is stored outside these years.
    let first = DateTime::<Utc>::from_timestamp(-62_167_219_200, 0).expect("0000-01-01 is in range");
    let last = DateTime::<Utc>::from_timestamp(253_402_300_799, 999_000_000).expect("9999-12-31 is in range");
    time.clamp(first, last).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 time (or a naive `YYYY-MM-DD[THH:MM:SS]`, read as UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let text = text.trim_end_matches('Z');
    for pattern in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, pattern) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_year_9999_are_clamped_so_key_ranges_still_sort() {
        assert_eq!(format_time(DateTime::<Utc>::MAX_UTC), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_time(DateTime::<Utc>::MIN_UTC), "0000-01-01T00:00:00.000Z");
        let now = Utc::now();
        assert_eq!(parse_time(&format_time(now)).map(format_time), Some(format_time(now)));
    }

    #[test]
    fn an_open_alert_past_its_auto_resolve_time_reads_resolved_at_that_time() {
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "alert-1", "event_key": "k", "title": "t", "description": "", "state": "TRIGGERED",
            "urgency": "HIGH", "severity": "CRITICAL", "webhook_id": "w", "project_id": "p",
            "workspace_id": "ws", "domain_id": "d", "created_at": "2026-11-30T00:00:00.000Z",
            "updated_at": "2026-11-30T00:00:00.000Z", "auto_resolve_at": "2026-11-30T01:00:00.000Z"
        }))
        .unwrap();
        assert_eq!(alert.clone().as_of("2026-11-30T00:59:59.999Z").state, AlertState::Triggered);
        let expired = alert.clone().as_of("2026-11-30T01:00:00.000Z");
        assert_eq!(
            (expired.state, expired.resolved_at.as_str()),
            (AlertState::Resolved, "2026-11-30T01:00:00.000Z")
        );
        let never = Alert { auto_resolve_at: String::new(), ..alert };
        assert_eq!(never.as_of("9999-12-31T23:59:59.999Z").state, AlertState::Triggered);
    }

    #[test]
    fn ids_have_the_reference_shape() {
        let id = new_id("event");
        assert_eq!(id.len(), "event-".len() + 12);
        assert!(id[6..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(id, new_id("event"));
    }

    #[test]
    fn enums_parse_case_insensitively_and_name_the_allowed_values() {
        assert_eq!("critical".parse::<Severity>().unwrap(), Severity::Critical);
        assert_eq!("NOT_AVAILABLE".parse::<Severity>().unwrap(), Severity::NotAvailable);
        let err = "loud".parse::<Severity>().unwrap_err().to_string();
        assert!(err.contains("CRITICAL, ERROR, WARNING, INFO, NOT_AVAILABLE, NONE"), "{err}");
    }

    #[test]
    fn times_render_with_milliseconds_and_parse_common_forms() {
        let t = parse_time("2022-06-21T09:34:58.034+09:00").unwrap();
        assert_eq!(format_time(t), "2022-06-21T00:34:58.034Z");
        assert_eq!(format_time(parse_time("2022-06-21").unwrap()), "2022-06-21T00:00:00.000Z");
        assert_eq!(format_time(parse_time("2022-06-21T01:02:03").unwrap()), "2022-06-21T01:02:03.000Z");
        assert!(parse_time("yesterday").is_none());
    }
}
