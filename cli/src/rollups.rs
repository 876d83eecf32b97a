//! `eventctl rollups verify|rebuild`: compare a domain's rollups with a recount of its
//! events from the index, and rewrite the buckets that differ (see
//! `event_core::service::rollup_repair`).

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use event_core::config::ReadAuthorizer;
use event_core::model::parse_time;
use event_core::service::rollup_repair;
use event_core::service::App;
use event_core::tenant::{authorize, Identity};
use event_core::{Error, Result};
use serde_json::Value;

use crate::output::{emit, Output};

#[derive(Subcommand)]
pub enum RollupsCommand {
    /// Print the buckets whose rollups differ from a recount of the domain's events.
    Verify(Range),
    /// Rewrite those buckets from the recount (safe while the rollup function runs;
    /// buckets it has not finished counting are left to it).
    Rebuild(Range),
}

#[derive(Args)]
pub struct Range {
    /// The domain whose rollups to check.
    #[arg(long)]
    domain_id: String,
    /// Start of the range (any ISO 8601 time), widened to its day; default 90 days ago.
    #[arg(long, value_parser = parse_at)]
    from: Option<DateTime<Utc>>,
    /// End of the range, widened to its day; default now.
    #[arg(long, value_parser = parse_at)]
    to: Option<DateTime<Utc>>,
    /// A message of the rollup function's failure queue (a file holding its body): the
    /// range becomes the batch's, from a minute before its first record arrived to its
    /// last (docs/data-model.md, "Repair").
    #[arg(long, conflicts_with_all = ["from", "to"])]
    failure_message: Option<std::path::PathBuf>,
}

fn parse_at(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    parse_time(text).ok_or_else(|| format!("{text:?} is not an ISO 8601 time"))
}

/// The time range of the events a failure-queue message's batch held. Lambda's message
/// names the batch's shard and sequence numbers and when its first and last records
/// reached the stream; an event's record reaches it at most a write delay after its
/// created_at, so the range starts a minute before.
pub fn failure_range(message: &Value) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let info = &message["DDBStreamBatchInfo"];
    let at = |name: &str| {
        info[name].as_str().and_then(parse_time).ok_or_else(|| {
            Error::InvalidArgument(format!("the message has no DDBStreamBatchInfo.{name} time"))
        })
    };
    Ok((at("approximateArrivalOfFirstRecord")? - Duration::minutes(1), at("approximateArrivalOfLastRecord")?))
}

pub async fn run(app: &App, command: RollupsCommand, output: Output) -> Result<()> {
    let (range, rebuild) = match command {
        RollupsCommand::Verify(range) => (range, false),
        RollupsCommand::Rebuild(range) => (range, true),
    };
    let (from, to) = match &range.failure_message {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
            let message = serde_json::from_str(&text)
                .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
            failure_range(&message)?
        }
        None => {
            let now = Utc::now();
            (range.from.unwrap_or(now - Duration::days(90)), range.to.unwrap_or(now))
        }
    };
    // The operator is trusted with any domain, as an IAM caller is.
    let domain = authorize(Identity::Absent, Some(&range.domain_id), ReadAuthorizer::Iam)?;
    // An operator's recount may read far more than a request's budget allows.
    let store = app.store.clone().with_read_budget(std::time::Duration::from_secs(24 * 3600));
    let answer = if rebuild {
        let rebuilt = rollup_repair::rebuild(&store, &domain, from, to, app.config.retention_days).await?;
        if output == Output::Text {
            println!("{} buckets rewritten, {} left to the consumer", rebuilt.rewritten, rebuilt.unsettled);
        }
        serde_json::to_value(rebuilt)
    } else {
        let differences = rollup_repair::verify(&store, &domain, from, to).await?;
        if output == Output::Text {
            for d in &differences {
                let note = if d.settled { "" } else { " (not yet counted by the consumer)" };
                println!("{} {}: rollups {}, recount {}{note}", d.view, d.bucket, d.rollups, d.recount);
            }
            println!("{} buckets differ", differences.len());
        }
        serde_json::to_value(differences)
    };
    let answer = answer.map_err(|e| Error::Internal(e.to_string()))?;
    if output != Output::Text {
        emit(&answer, output, |_| {});
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_message_gives_its_batch_s_range() {
        // The shape Lambda sends a stream batch's on-failure destination.
        let message = serde_json::json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
            "DDBStreamBatchInfo": {
                "shardId": "shardId-00000001700000000000-0a1b2c3d",
                "startSequenceNumber": "4421584500000000017450439091",
                "endSequenceNumber": "4421584500000000017450439099",
                "approximateArrivalOfFirstRecord": "2026-11-30T05:10:00Z",
                "approximateArrivalOfLastRecord": "2026-11-30T05:10:30Z",
                "batchSize": 9,
                "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026"
            }
        });
        let (from, to) = failure_range(&message).unwrap();
        assert_eq!(from, parse_time("2026-11-30T05:09:00Z").unwrap());
        assert_eq!(to, parse_time("2026-11-30T05:10:30Z").unwrap());
        assert!(failure_range(&serde_json::json!({})).is_err());
    }
}
