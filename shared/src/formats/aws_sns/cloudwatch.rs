//! A CloudWatch alarm, in an SNS `Message` or posted raw: one event per state change,
//! keyed by the alarm so that OK resolves ALARM.

use serde_json::{Map, Value};

use super::{Envelope, PROVIDER};
use crate::formats::json::{id_text, json_kind, optional_object, optional_str, sender_time, stable_key};
use crate::formats::{ParseError, ParsedEvent};
use crate::model::Resource;

/// CloudWatch's subjects: `ALARM: "name" in Region`, `OK: …`, `INSUFFICIENT_DATA: …`.
pub(super) fn subject_names_an_alarm(subject: &str) -> bool {
    ["ALARM: \"", "OK: \"", "INSUFFICIENT_DATA: \""].iter().any(|p| subject.starts_with(p))
}

pub(super) fn is_alarm(message: &Value) -> bool {
    message.is_object() && ["AlarmName", "AlarmArn", "NewStateValue"].iter().any(|k| message.get(k).is_some())
}

pub(super) fn alarm_event(
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
        auto_resolve_after_ms: None,
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
