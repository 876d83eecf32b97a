//! rollup: the events table's stream in (a tumbling-window event source mapping, whose
//! invocations name their shard), rollups out; the records not counted yet go back as
//! batch item failures. Each batch logs its lag and what it set aside as CloudWatch
//! metrics (embedded metric format), for the template's `RollupLagAlarm`.

use aws_lambda_events::event::dynamodb::{TimeWindowEvent, TimeWindowEventResponse};
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use chrono::{DateTime, Utc};
use event_core::service::rollups::BatchOutcome;
use event_core::service::RollupConsumer;
use event_core::store::stream::change_from_lambda;
use event_core::Error;

pub async fn handle(
    consumer: &RollupConsumer,
    event: TimeWindowEvent,
) -> Result<TimeWindowEventResponse, Error> {
    let records = &event.dynamo_db_event.records;
    let mut response = TimeWindowEventResponse::default();
    if records.is_empty() {
        return Ok(response); // a window's final invocation: nothing is carried between them
    }
    // Counting exactly once rests on each shard's high-water mark, so a batch whose shard
    // is unknown is refused rather than counted.
    let Some(shard_id) = event.time_window_properties.shard_id.as_deref() else {
        return Err(Error::Internal(
            "the event has no shardId: the event source mapping needs TumblingWindowInSeconds".into(),
        ));
    };
    let mut changes = Vec::with_capacity(records.len());
    let mut unreadable = 0;
    for record in records {
        match change_from_lambda(record) {
            Ok(change) => changes.push(change),
            Err(error) => {
                // No retry makes it readable: set aside, so it holds back no other record.
                tracing::error!(
                    %error, event_id = %record.event_id, sequence_number = ?record.change.sequence_number,
                    "unreadable stream record set aside"
                );
                unreadable += 1;
            }
        }
    }
    let outcome = consumer.consume_batch(shard_id, &changes).await;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    println!("{}", metrics(&function, &outcome, unreadable, Utc::now()));
    if let Some(sequence_number) = outcome.failed {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence_number);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

/// One line of CloudWatch's embedded metric format: `RollupLagSeconds`, how far behind
/// now the shard's applied events are (absent when the batch applied none), and
/// `RollupRecordsSetAside`, events and records no retry could count.
pub fn metrics(
    function: &str,
    outcome: &BatchOutcome,
    unreadable: u64,
    now: DateTime<Utc>,
) -> serde_json::Value {
    let mut metrics = vec![serde_json::json!({"Name": "RollupRecordsSetAside", "Unit": "Count"})];
    let mut line = serde_json::json!({
        "_aws": {"Timestamp": now.timestamp_millis(), "CloudWatchMetrics": [{
            "Namespace": "EventService", "Dimensions": [["FunctionName"]], "Metrics": []}]},
        "FunctionName": function,
        "RollupRecordsSetAside": outcome.set_aside + unreadable,
    });
    if let Some(applied) = outcome.applied {
        let lag = (now - applied).num_milliseconds().max(0) as f64 / 1000.0;
        line["RollupLagSeconds"] = serde_json::json!(lag);
        metrics.push(serde_json::json!({"Name": "RollupLagSeconds", "Unit": "Seconds"}));
    }
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"] = serde_json::json!(metrics);
    line
}
