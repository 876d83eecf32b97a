//! Amazon SNS deliveries to an HTTP(S) subscription: one event per message.
//!
//! - `SubscriptionConfirmation` / `UnsubscribeConfirmation`: an INFO event that shows
//!   the SubscribeURL; confirming (an HTTP GET, after checking the signature and the
//!   URL's host) is the service's decision, not the parser's.
//! - `Notification` whose `Message` is a CloudWatch alarm (JSON): ALARM → ALERT,
//!   OK → RECOVERY, INSUFFICIENT_DATA → ALERT with NOT_AVAILABLE severity.
//! - `Notification` whose `Message` is an AWS Health event (EventBridge → SNS), as the
//!   reference also reads it.
//! - any other `Notification`: one ALERT with the Subject as title and the message text
//!   as description.
//!
//! With "raw message delivery" SNS posts the message itself; a body that is a CloudWatch
//! alarm or an AWS Health event is therefore read without the envelope.
//!
//! Rules follow cloudforet-io/plugin-aws-sns-mon-webhook where it has them;
//! `docs/formats.md` lists each rule and where it comes from. Signature checking needs
//! I/O (fetching the signing certificate) and belongs to the service; [`string_to_sign`]
//! and [`signing_cert_url_is_trusted`] are the pure halves of it.

use serde_json::{Map, Value};

use super::{
    id_text, json_kind, optional_object, optional_str, sender_time, stable_key, ParseError, ParsedEvent,
};
use crate::model::Resource;

pub const PROVIDER: &str = "aws";

const TOPIC_TYPE: &str = "AWS::SNS::Topic";

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    if !body.is_object() {
        return Err(ParseError::new(format!(
            "an SNS message must be a JSON object, not {}",
            json_kind(body)
        )));
    }
    let event = match optional_str(body, "Type", "the SNS message's")? {
        Some("SubscriptionConfirmation") => confirmation(body, true)?,
        Some("UnsubscribeConfirmation") => confirmation(body, false)?,
        Some("Notification") => notification(body)?,
        Some(other) => {
            return Err(ParseError::new(format!(
                "unknown SNS message Type '{other}': expected Notification, SubscriptionConfirmation or \
                 UnsubscribeConfirmation"
            )));
        }
        None if is_alarm(body) => alarm_event(body, None, body)?,
        None if is_health_event(body) => health_event(body, None, body)?,
        None => {
            return Err(ParseError::new(
                "not an SNS message: 'Type' is missing, and the body is not a CloudWatch alarm or an AWS Health \
                 event sent with raw message delivery",
            ));
        }
    };
    Ok(vec![event])
}

/// The SNS fields around a message.
struct Envelope<'a> {
    topic_arn: &'a str,
    message_id: Option<&'a str>,
    subject: Option<&'a str>,
    timestamp: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    fn read(body: &'a Value) -> Result<Self, ParseError> {
        let field = |key| optional_str(body, key, "the SNS message's");
        Ok(Envelope {
            topic_arn: field("TopicArn")?
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| ParseError::new("the SNS message has no 'TopicArn'"))?,
            message_id: field("MessageId")?.filter(|m| !m.is_empty()),
            subject: field("Subject")?.map(str::trim).filter(|s| !s.is_empty()),
            timestamp: field("Timestamp")?,
        })
    }

    /// The account the topic belongs to (`arn:aws:sns:<region>:<account>:<name>`).
    fn account(&self) -> Option<String> {
        self.topic_arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string)
    }

    fn topic(&self) -> Resource {
        Resource {
            resource_id: self.topic_arn.to_string(),
            resource_type: TOPIC_TYPE.to_string(),
            name: self.topic_arn.splitn(6, ':').nth(5).unwrap_or(self.topic_arn).to_string(),
        }
    }

    fn time(&self) -> Option<String> {
        self.timestamp.and_then(sender_time)
    }

    /// The SNS fields every event of a message records.
    fn info(&self, info: &mut Map<String, Value>) {
        let text = |s: &str| Value::String(s.to_string());
        info.insert("TopicArn".into(), text(self.topic_arn));
        if let Some(id) = self.message_id {
            info.insert("MessageId".into(), text(id));
        }
        if let Some(subject) = self.subject {
            info.insert("Subject".into(), text(subject));
        }
        if let Some(timestamp) = self.timestamp {
            info.insert("Timestamp".into(), text(timestamp));
        }
    }
}

fn confirmation(body: &Value, subscribe: bool) -> Result<ParsedEvent, ParseError> {
    let envelope = Envelope::read(body)?;
    let field = |key| optional_str(body, key, "the SNS message's");
    let kind = if subscribe { "SubscriptionConfirmation" } else { "UnsubscribeConfirmation" };
    let url = field("SubscribeURL")?
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ParseError::new(format!("the {kind} has no 'SubscribeURL'")))?;
    let message = field("Message")?.map(str::trim).filter(|m| !m.is_empty());
    let what = if subscribe { "subscription" } else { "unsubscribe" };

    let mut info = Map::new();
    envelope.info(&mut info);
    info.insert("Type".into(), Value::String(kind.into()));
    info.insert("SubscribeURL".into(), Value::String(url.into()));
    if let Some(token) = field("Token")? {
        info.insert("Token".into(), Value::String(token.into()));
    }
    Ok(ParsedEvent {
        // Both confirmations of a topic share one key: they are one integration's set-up.
        event_key: Some(stable_key(&["aws-sns-subscription", envelope.topic_arn])),
        event_type: Some("ALERT".into()),
        title: Some(format!("AWS SNS {what} confirmation for {}", envelope.topic_arn)),
        description: Some(match message {
            Some(message) => format!("{message}\n\nSubscribeURL: {url}"),
            None => format!("SubscribeURL: {url}"),
        }),
        severity: Some("INFO".into()),
        rule: Some(kind.into()),
        resource: Some(envelope.topic()),
        provider: Some(PROVIDER.into()),
        account: envelope.account(),
        image_url: None,
        occurred_at: envelope.time(),
        additional_info: info,
        raw_data: body.clone(),
        dedup_key: envelope.message_id.map(str::to_string),
    })
}

fn notification(body: &Value) -> Result<ParsedEvent, ParseError> {
    let envelope = Envelope::read(body)?;
    let message = optional_str(body, "Message", "the SNS message's")?
        .ok_or_else(|| ParseError::new("the SNS Notification has no 'Message'"))?;
    let alarm_subject = envelope.subject.is_some_and(subject_names_an_alarm);
    let looks_like_alarm = alarm_subject || message.contains("\"AlarmName\"");
    let json = if message.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(message) {
            Ok(value) => Some(value),
            Err(e) if looks_like_alarm => {
                return Err(ParseError::new(format!(
                    "the SNS Message looks like a CloudWatch alarm but is not valid JSON: {e}"
                )));
            }
            Err(_) => None,
        }
    } else {
        None
    };
    match json {
        Some(alarm) if is_alarm(&alarm) => alarm_event(&alarm, Some(&envelope), body),
        Some(health) if is_health_event(&health) => health_event(&health, Some(&envelope), body),
        _ if alarm_subject => Err(ParseError::new(format!(
            "the SNS Subject '{}' names a CloudWatch alarm, but the Message is not the alarm's JSON \
             (with AlarmName and NewStateValue)",
            envelope.subject.unwrap_or_default()
        ))),
        _ => Ok(text_event(&envelope, message, body)),
    }
}

/// CloudWatch's subjects: `ALARM: "name" in Region`, `OK: …`, `INSUFFICIENT_DATA: …`.
fn subject_names_an_alarm(subject: &str) -> bool {
    ["ALARM: \"", "OK: \"", "INSUFFICIENT_DATA: \""].iter().any(|p| subject.starts_with(p))
}

fn is_alarm(message: &Value) -> bool {
    message.is_object() && ["AlarmName", "AlarmArn", "NewStateValue"].iter().any(|k| message.get(k).is_some())
}

/// An AWS Health event as EventBridge writes it (`source: aws.health`).
pub(crate) fn is_health_event(message: &Value) -> bool {
    message.get("source").and_then(Value::as_str) == Some("aws.health") && message.get("detail").is_some()
}

fn alarm_event(
    alarm: &Value,
    envelope: Option<&Envelope<'_>>,
    raw: &Value,
) -> Result<ParsedEvent, ParseError> {
    let field = |key| optional_str(alarm, key, "the CloudWatch alarm's");
    let name = field("AlarmName")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ParseError::new("the CloudWatch alarm has no 'AlarmName'"))?;
    let state = field("NewStateValue")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::new("the CloudWatch alarm has no 'NewStateValue'"))?;
    let arn = field("AlarmArn")?.filter(|a| !a.is_empty());
    let region = field("Region")?.filter(|r| !r.is_empty());
    let account = match alarm.get("AWSAccountId") {
        None | Some(Value::Null) => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => id_text(id),
        Some(other) => {
            return Err(ParseError::new(format!(
                "the CloudWatch alarm's 'AWSAccountId' must be a string, not {}",
                json_kind(other)
            )));
        }
    };
    let trigger = Trigger::read(alarm)?;

    let mut info = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            info.insert(key.into(), Value::String(value.into()));
        }
    };
    put("AlarmName", Some(name));
    put("AlarmDescription", field("AlarmDescription")?);
    put("AWSAccountId", account.as_deref());
    put("Region", region);
    put("AlarmArn", arn);
    put("OldStateValue", field("OldStateValue")?);
    put("NewStateValue", Some(state));
    put("StateChangeTime", field("StateChangeTime")?);
    put("MetricName", trigger.metric_name);
    put("Namespace", trigger.namespace);
    put("Dimensions", Some(trigger.dimensions_text().as_str()));
    if let Some(envelope) = envelope {
        envelope.info(&mut info);
    }

    let key = match arn {
        Some(arn) => stable_key(&["aws-cloudwatch-alarm", arn]),
        None => stable_key(&[
            "aws-cloudwatch-alarm",
            account.as_deref().unwrap_or(""),
            region.unwrap_or(""),
            name,
        ]),
    };
    Ok(ParsedEvent {
        event_key: Some(key),
        event_type: Some(if state == "OK" { "RECOVERY" } else { "ALERT" }.into()),
        title: Some(name.to_string()),
        description: field("NewStateReason")?.map(str::to_string),
        severity: Some(
            match state {
                "ALARM" => "ERROR",
                "OK" => "INFO",
                "INSUFFICIENT_DATA" => "NOT_AVAILABLE",
                other => other,
            }
            .to_string(),
        ),
        rule: Some(name.to_string()),
        resource: trigger.resource(region),
        provider: Some(PROVIDER.into()),
        account: account.or_else(|| envelope.and_then(Envelope::account)),
        image_url: None,
        occurred_at: field("StateChangeTime")?
            .and_then(sender_time)
            .or_else(|| envelope.and_then(Envelope::time)),
        additional_info: info,
        raw_data: raw.clone(),
        dedup_key: envelope.and_then(|e| e.message_id).map(str::to_string),
    })
}

/// What an alarm's `Trigger` says about the metric: its name, namespace and dimensions,
/// from the trigger itself or from its metric-math `Metrics`.
struct Trigger<'a> {
    metric_name: Option<&'a str>,
    namespace: Option<&'a str>,
    dimensions: Vec<(String, String)>,
}

impl<'a> Trigger<'a> {
    fn read(alarm: &'a Value) -> Result<Self, ParseError> {
        let mut trigger = Trigger { metric_name: None, namespace: None, dimensions: Vec::new() };
        let Some(map) = optional_object(alarm, "Trigger", "the CloudWatch alarm's")? else {
            return Ok(trigger);
        };
        let what = "the alarm Trigger's";
        trigger.metric_name = optional_str(&alarm["Trigger"], "MetricName", what)?;
        trigger.namespace = optional_str(&alarm["Trigger"], "Namespace", what)?;
        trigger.add_dimensions(map.get("Dimensions"))?;
        match map.get("Metrics") {
            None | Some(Value::Null) => {}
            Some(Value::Array(metrics)) => {
                for metric in metrics {
                    let Some(stat) = metric.get("MetricStat") else { continue };
                    let Some(inner) = stat.get("Metric").filter(|m| m.is_object()) else { continue };
                    let what = "a Trigger metric's";
                    trigger.metric_name = trigger.metric_name.or(optional_str(inner, "MetricName", what)?);
                    trigger.namespace = trigger.namespace.or(optional_str(inner, "Namespace", what)?);
                    trigger.add_dimensions(inner.get("Dimensions"))?;
                }
            }
            Some(other) => {
                return Err(ParseError::new(format!(
                    "the alarm Trigger's 'Metrics' must be a list, not {}",
                    json_kind(other)
                )));
            }
        }
        Ok(trigger)
    }

    fn add_dimensions(&mut self, dimensions: Option<&Value>) -> Result<(), ParseError> {
        let list = match dimensions {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(ParseError::new(format!(
                    "the alarm Trigger's 'Dimensions' must be a list, not {}",
                    json_kind(other)
                )));
            }
        };
        for dimension in list {
            if !dimension.is_object() {
                return Err(ParseError::new(format!(
                    "an alarm dimension must be an object {{name, value}}, not {}",
                    json_kind(dimension)
                )));
            }
            let name = dimension.get("name").and_then(id_text).unwrap_or_default();
            let value = dimension.get("value").and_then(id_text).unwrap_or_default();
            let pair = (name, value);
            if !self.dimensions.contains(&pair) {
                self.dimensions.push(pair);
            }
        }
        Ok(())
    }

    /// `InstanceId=i-0b79…, AutoScalingGroupName=web`.
    fn dimensions_text(&self) -> String {
        let pairs: Vec<String> = self.dimensions.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join(", ")
    }

    /// The first dimension's value is the resource (one event per alarm, where the
    /// reference makes one per dimension); the namespace is its type.
    fn resource(&self, region: Option<&str>) -> Option<Resource> {
        let (_, first) = self.dimensions.first()?;
        let mut name = String::new();
        if let Some(ns) = self.namespace.filter(|n| !n.is_empty()) {
            name.push_str(&format!("[{ns}] "));
        }
        name.push_str(&self.dimensions_text());
        if let Some(region) = region {
            name.push_str(&format!(" ({region})"));
        }
        Some(Resource {
            resource_id: first.clone(),
            resource_type: self.namespace.unwrap_or_default().to_string(),
            name,
        })
    }
}

fn health_event(
    health: &Value,
    envelope: Option<&Envelope<'_>>,
    raw: &Value,
) -> Result<ParsedEvent, ParseError> {
    let detail_map = optional_object(health, "detail", "the AWS Health event's")?
        .ok_or_else(|| ParseError::new("the AWS Health event has no 'detail'"))?;
    let detail = health.get("detail").unwrap_or(&Value::Null);
    let what = "the AWS Health event's";
    let field = |key| optional_str(detail, key, what);
    let event_arn = field("eventArn")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ParseError::new("the AWS Health event has no 'detail.eventArn'"))?;
    let status = field("statusCode")?.unwrap_or("open").to_ascii_lowercase();
    let category = field("eventTypeCategory")?.unwrap_or_default();
    let code = field("eventTypeCode")?.unwrap_or_default();
    let account = optional_str(health, "account", what)?.filter(|a| !a.is_empty());
    let source = optional_str(health, "source", what)?.unwrap_or("aws.health");

    let mut text: Vec<String> = Vec::new();
    if let Some(descriptions) = detail_map.get("eventDescription").and_then(Value::as_array) {
        for d in descriptions {
            if let Some(t) = d.get("latestDescription").and_then(Value::as_str) {
                text.push(t.replace("\\n", "\n"));
            }
        }
    }
    let entities: Vec<String> = detail_map
        .get("affectedEntities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("entityValue").and_then(id_text))
        .collect();
    let mut description = text.join(" ");
    if let Some(account) = account {
        description.push_str(&format!(" (Account:{account})"));
    }
    if entities.is_empty() {
        description.push_str("\n\nAffected Entities: None");
    } else {
        description.push_str("\n\nAffected Entities:");
        for entity in &entities {
            description.push_str(&format!("\n - {entity}"));
        }
    }

    let mut info = Map::new();
    let text_value = |s: &str| Value::String(s.to_string());
    for (key, value) in [
        ("id", optional_str(health, "id", what)?),
        ("account", account),
        ("region", optional_str(health, "region", what)?),
        ("service", field("service")?),
        ("eventTypeCode", Some(code)),
        ("eventTypeCategory", Some(category)),
        ("statusCode", Some(status.as_str())),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            info.insert(key.into(), text_value(value));
        }
    }
    if !entities.is_empty() {
        info.insert(
            "affectedEntities".into(),
            Value::Array(entities.iter().map(|e| text_value(e)).collect()),
        );
    }
    if let Some(envelope) = envelope {
        envelope.info(&mut info);
    }

    Ok(ParsedEvent {
        // The reference keys a Health event by its ARN, so "closed" resolves "open".
        event_key: Some(event_arn.to_string()),
        event_type: Some(if status == "closed" { "RECOVERY" } else { "ALERT" }.into()),
        title: Some(if code.is_empty() { "AWS Health event".to_string() } else { title_case(code) }),
        description: Some(description),
        severity: Some(
            if category.eq_ignore_ascii_case("issue") || category.eq_ignore_ascii_case("scheduledChange") {
                "ERROR"
            } else {
                "INFO"
            }
            .into(),
        ),
        rule: Some(category.to_string()).filter(|c| !c.is_empty()),
        resource: Some(Resource {
            resource_id: event_arn.to_string(),
            resource_type: source.to_string(),
            name: field("service")?.unwrap_or_default().to_string(),
        }),
        provider: Some(PROVIDER.into()),
        account: account.map(str::to_string).or_else(|| envelope.and_then(Envelope::account)),
        image_url: None,
        occurred_at: field("startTime")?
            .and_then(sender_time)
            .or_else(|| optional_str(health, "time", what).ok().flatten().and_then(sender_time))
            .or_else(|| envelope.and_then(Envelope::time)),
        additional_info: info,
        raw_data: raw.clone(),
        dedup_key: envelope
            .and_then(|e| e.message_id)
            .or_else(|| optional_str(health, "id", what).ok().flatten())
            .map(str::to_string),
    })
}

/// `AWS_EC2_INSTANCE_ISSUE` → `Aws Ec2 Instance Issue`, as the reference titles them.
fn title_case(code: &str) -> String {
    code.split(|c: char| c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(chars.map(|c| c.to_ascii_lowercase())).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_event(envelope: &Envelope<'_>, message: &str, raw: &Value) -> ParsedEvent {
    let mut info = Map::new();
    envelope.info(&mut info);
    info.insert("Type".into(), Value::String("Notification".into()));
    if let Some(attributes) = raw.get("MessageAttributes").filter(|a| !a.is_null()) {
        info.insert("MessageAttributes".into(), attributes.clone());
    }
    let topic = envelope.topic();
    ParsedEvent {
        event_key: Some(stable_key(&["aws-sns-message", envelope.topic_arn, envelope.subject.unwrap_or("")])),
        event_type: Some("ALERT".into()),
        title: Some(match envelope.subject {
            Some(subject) => subject.to_string(),
            None => format!("AWS SNS notification from {}", topic.name),
        }),
        description: Some(message.to_string()),
        severity: Some("INFO".into()),
        rule: None,
        resource: Some(topic),
        provider: Some(PROVIDER.into()),
        account: envelope.account(),
        image_url: None,
        occurred_at: envelope.time(),
        additional_info: info,
        raw_data: raw.clone(),
        dedup_key: envelope.message_id.map(str::to_string),
    }
}

/// The text SNS signed for this message ("string to sign"): `Key\nvalue\n` for each
/// signed key in byte order — Message, MessageId, Subject (if present), Timestamp,
/// TopicArn, Type for a Notification; Message, MessageId, SubscribeURL, Timestamp,
/// Token, TopicArn, Type for the confirmations. The service verifies `Signature`
/// (base64; SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2) over these bytes
/// with the certificate at `SigningCertURL`.
pub fn string_to_sign(body: &Value) -> Result<String, ParseError> {
    let what = "the SNS message's";
    let keys: &[&str] = match optional_str(body, "Type", what)? {
        Some("Notification") => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        Some("SubscriptionConfirmation" | "UnsubscribeConfirmation") => {
            &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        }
        Some(other) => return Err(ParseError::new(format!("unknown SNS message Type '{other}'"))),
        None => return Err(ParseError::new("the SNS message has no 'Type'")),
    };
    let mut text = String::new();
    for &key in keys {
        match optional_str(body, key, what)? {
            Some(value) => {
                text.push_str(key);
                text.push('\n');
                text.push_str(value);
                text.push('\n');
            }
            None if key == "Subject" => {}
            None => return Err(ParseError::new(format!("the SNS message has no '{key}', which SNS signs"))),
        }
    }
    Ok(text)
}

/// Whether `url` is an HTTPS URL on an SNS endpoint (`sns.<region>.amazonaws.com`, or
/// `.amazonaws.com.cn`), with no user-info or port: the only hosts the service should
/// fetch a SubscribeURL or a signing certificate from.
pub fn is_sns_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if host.contains(['@', ':']) {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let Some(region) = host
        .strip_prefix("sns.")
        .and_then(|h| h.strip_suffix(".amazonaws.com").or_else(|| h.strip_suffix(".amazonaws.com.cn")))
    else {
        return false;
    };
    !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `SigningCertURL` may be trusted: an SNS endpoint serving a `.pem` file.
pub fn signing_cert_url_is_trusted(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    is_sns_url(url) && path.ends_with(".pem")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUBSCRIBE: &str = include_str!("../../../tests/fixtures/aws_sns/subscription-confirmation.json");
    const UNSUBSCRIBE: &str = include_str!("../../../tests/fixtures/aws_sns/unsubscribe-confirmation.json");
    const ALARM: &str = include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-alarm.json");
    const OK: &str = include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-ok.json");
    const ANOMALY: &str =
        include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-anomaly-alarm.json");
    const PLAIN: &str = include_str!("../../../tests/fixtures/aws_sns/notification-plain-text.json");
    const HEALTH: &str = include_str!("../../../tests/fixtures/aws_sns/notification-aws-health.json");

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
        assert_eq!(
            (topic.resource_type.as_str(), topic.name.as_str()),
            ("AWS::SNS::Topic", "spaceone-alarms")
        );
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
        assert_eq!(super::super::detect(&alarm), crate::model::WebhookFormat::AwsSns);
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
        assert!(
            error.contains("names a CloudWatch alarm, but the Message is not the alarm's JSON"),
            "{error}"
        );
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
        assert!(error(json!({"Type": "Other", "TopicArn": topic}))
            .starts_with("unknown SNS message Type 'Other'"));
        assert!(error(json!({"Type": "Notification", "Message": "m"})).contains("no 'TopicArn'"));
        assert!(error(json!({"Type": "Notification", "TopicArn": topic})).contains("no 'Message'"));
        assert!(error(json!({"Type": "Notification", "TopicArn": topic, "Message": {"a": 1}}))
            .contains("'Message' must be a string"));
        assert!(error(json!({"Type": "SubscriptionConfirmation", "TopicArn": topic}))
            .contains("no 'SubscribeURL'"));
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
            assert_eq!(super::super::detect(&body), crate::model::WebhookFormat::AwsSns);
            let auto = super::super::parse(crate::model::WebhookFormat::Auto, &body).unwrap();
            assert_eq!(auto, parse(&body).unwrap());
        }
    }

    #[test]
    fn string_to_sign_follows_the_sns_rules() {
        let body = fixture(PLAIN);
        let expected = format!(
            "Message\n{}\nMessageId\n{}\nSubject\n{}\nTimestamp\n{}\nTopicArn\n{}\nType\nNotification\n",
            body["Message"].as_str().unwrap(),
            body["MessageId"].as_str().unwrap(),
            body["Subject"].as_str().unwrap(),
            body["Timestamp"].as_str().unwrap(),
            body["TopicArn"].as_str().unwrap(),
        );
        assert_eq!(string_to_sign(&body).unwrap(), expected);
        let mut no_subject = body.clone();
        no_subject.as_object_mut().unwrap().remove("Subject");
        assert!(!string_to_sign(&no_subject).unwrap().contains("Subject\n"));
        let confirm = fixture(SUBSCRIBE);
        let expected: String =
            ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
                .iter()
                .map(|k| format!("{k}\n{}\n", confirm[k].as_str().unwrap()))
                .collect();
        assert_eq!(string_to_sign(&confirm).unwrap(), expected);
        assert!(string_to_sign(&json!({"Type": "Notification"})).unwrap_err().0.contains("no 'Message'"));
    }

    #[test]
    fn only_sns_endpoints_are_trusted_urls() {
        let cert = fixture(ALARM)["SigningCertURL"].as_str().unwrap().to_string();
        assert!(signing_cert_url_is_trusted(&cert));
        assert!(is_sns_url(fixture(SUBSCRIBE)["SubscribeURL"].as_str().unwrap()));
        assert!(is_sns_url("https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription"));
        for bad in [
            "http://sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com@evil.example/cert.pem",
            "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
            "https://s3.amazonaws.com/cert.pem",
            "https://sns..amazonaws.com/cert.pem",
        ] {
            assert!(!signing_cert_url_is_trusted(bad), "{bad}");
        }
        assert!(!signing_cert_url_is_trusted("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"));
    }
}
