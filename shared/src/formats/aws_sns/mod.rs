//! Amazon SNS deliveries to an HTTP(S) subscription: one event per message.
//!
//! - `SubscriptionConfirmation` / `UnsubscribeConfirmation`: an INFO event that shows
//!   the SubscribeURL; confirming (an HTTP GET, after checking the signature and the
//!   URL's host) is the service's decision, not the parser's.
//! - `Notification` whose `Message` is a CloudWatch alarm (JSON): ALARM → ALERT,
//!   OK → RECOVERY, INSUFFICIENT_DATA → ALERT with NOT_AVAILABLE severity (`cloudwatch`).
//! - `Notification` whose `Message` is an AWS Health event (EventBridge → SNS), as the
//!   reference also reads it (`health`).
//! - any other `Notification`: one ALERT with the Subject as title and the message text
//!   as description (`text`).
//!
//! With "raw message delivery" SNS posts the message itself; a body that is a CloudWatch
//! alarm or an AWS Health event is therefore read without the envelope.
//!
//! Rules follow cloudforet-io/plugin-aws-sns-mon-webhook where it has them;
//! `docs/formats.md` lists each rule and where it comes from. Checking the signature and
//! confirming a subscription need I/O: they are [`crate::sns`]'s, which the service calls.

mod cloudwatch;
mod health;
mod text;

pub(crate) use health::is_health_event;

use serde_json::{Map, Value};

use super::json::{json_kind, optional_str, sender_time, stable_key};
use super::{ParseError, ParsedEvent};
use crate::model::Resource;
use cloudwatch::{alarm_event, is_alarm, subject_names_an_alarm};
use health::health_event;
use text::text_event;

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
        auto_resolve_after_ms: None,
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

#[cfg(test)]
mod tests;
