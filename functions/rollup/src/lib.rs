//! rollup: the events table's stream in (a tumbling-window event source mapping, whose
//! invocations name their shard), rollups out; the records not counted yet go back as
//! batch item failures. Each batch counts its lag and what it set aside as CloudWatch
//! metrics (`telemetry`, embedded metric format), for the template's `RollupLagAlarm`.

use aws_lambda_events::event::dynamodb::{TimeWindowEvent, TimeWindowEventResponse};
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use chrono::Utc;
use event_core::service::RollupConsumer;
use event_core::store::stream::change_from_lambda;
use event_core::telemetry;
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
    // How far behind now the shard's applied events are, and what no retry could count.
    let lag = outcome.applied.map(|applied| (Utc::now() - applied).num_milliseconds().max(0) as f64 / 1000.0);
    telemetry::rollup_batch(lag, outcome.set_aside + unreadable);
    if let Some(sequence_number) = outcome.failed {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence_number);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}
