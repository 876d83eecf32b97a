//! The events table's stream, read as [`Change`]s: from the records Lambda hands the
//! rollup function, or (for `eventctl serve` and the tests) straight from DynamoDB
//! Local's stream, whose records have the same shape.

use aws_lambda_events::event::dynamodb::EventRecord;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::parse_time;
use crate::rollup::{Change, Fact, Seq};

mod local;
pub use local::{LocalStream, ShardBatch};

/// The fields of a new event item rollups read. Delivery claims and raw_data chunk
/// items have no `domain_id`.
#[derive(Deserialize)]
struct NewImage {
    event_id: String,
    #[serde(default)]
    domain_id: Option<String>,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    webhook_id: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    resource: ImageResource,
}

#[derive(Deserialize, Default)]
struct ImageResource {
    #[serde(default)]
    resource_type: String,
}

/// What a stream record means for rollups. Only an INSERT of an event counts: events
/// are never updated, and their TTL deletions must not uncount what rollups expire
/// alike.
pub fn change_from_lambda(record: &EventRecord) -> Result<Change> {
    let sequence_number = record.change.sequence_number.as_deref().unwrap_or_default();
    let seq = Seq::parse(sequence_number)?;
    let fact = match record.event_name.as_str() {
        "INSERT" if !record.change.new_image.is_empty() => fact(record.change.new_image.clone())?,
        _ => None,
    };
    Ok(Change { sequence_number: sequence_number.to_string(), seq, fact })
}

fn fact(image: serde_dynamo::Item) -> Result<Option<Fact>> {
    let image: NewImage = serde_dynamo::from_item(image)
        .map_err(|e| Error::Internal(format!("a stream record's new image: {e}")))?;
    let Some(domain_id) = image.domain_id.filter(|_| !image.event_id.contains('#')) else {
        return Ok(None);
    };
    let created_at: DateTime<Utc> = parse_time(&image.created_at).ok_or_else(|| {
        Error::Internal(format!("event {} has created_at {:?}", image.event_id, image.created_at))
    })?;
    let values = [
        image.severity,
        image.event_type,
        image.project_id,
        image.workspace_id,
        image.webhook_id,
        image.provider,
        image.resource.resource_type,
    ];
    Ok(Some(Fact { domain_id, created_at, values }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(name: &str, image: serde_json::Value) -> EventRecord {
        serde_json::from_value(json!({
            "awsRegion": "us-east-1",
            "eventID": "1",
            "eventName": name,
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": {"event_id": {"S": "event-1"}},
                "NewImage": image,
                "SequenceNumber": "4421584500000000017450439091",
                "SizeBytes": 26,
                "StreamViewType": "NEW_IMAGE"
            }
        }))
        .unwrap()
    }

    fn event_image() -> serde_json::Value {
        json!({
            "event_id": {"S": "event-1"}, "domain_id": {"S": "domain-1"},
            "created_at": {"S": "2022-06-01T05:10:00.000Z"}, "severity": {"S": "ERROR"},
            "event_type": {"S": "ALERT"}, "project_id": {"S": "project-1"},
            "workspace_id": {"S": "workspace-1"}, "webhook_id": {"S": "webhook-1"},
            "provider": {"S": "prometheus"}, "title": {"S": "Disk full"},
            "resource": {"M": {"resource_type": {"S": "inventory.Server"}, "name": {"S": "db"}}}
        })
    }

    #[test]
    fn a_new_event_counts_by_its_fields() {
        let change = change_from_lambda(&record("INSERT", event_image())).unwrap();
        let fact = change.fact.unwrap();
        assert_eq!(fact.domain_id, "domain-1");
        assert_eq!(fact.created_at, parse_time("2022-06-01T05:10:00Z").unwrap());
        assert_eq!(
            fact.values,
            ["ERROR", "ALERT", "project-1", "workspace-1", "webhook-1", "prometheus", "inventory.Server"]
        );
        assert_eq!(change.sequence_number, "4421584500000000017450439091");
    }

    #[test]
    fn claims_chunks_updates_and_deletions_count_nothing() {
        let claim = json!({"event_id": {"S": "delivery#ab12"}, "status": {"S": "pending"}});
        let chunk = json!({"event_id": {"S": "event-1#raw#0"}, "chunk": {"S": "{}"}});
        for (name, image) in [("INSERT", claim), ("INSERT", chunk), ("MODIFY", event_image())] {
            assert_eq!(change_from_lambda(&record(name, image)).unwrap().fact, None);
        }
        // A TTL deletion carries no new image (the stream is NEW_IMAGE).
        assert_eq!(change_from_lambda(&record("REMOVE", json!(null))).unwrap().fact, None);
    }

    #[test]
    fn a_malformed_event_or_sequence_number_is_an_error_not_a_skip() {
        let mut image = event_image();
        image["created_at"] = json!({"S": "yesterday"});
        assert!(change_from_lambda(&record("INSERT", image)).is_err());
        let mut bad = record("INSERT", event_image());
        bad.change.sequence_number = None;
        assert!(change_from_lambda(&bad).is_err());
    }
}
