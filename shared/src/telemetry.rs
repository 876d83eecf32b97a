//! Metrics as CloudWatch embedded-metric-format (EMF) lines: what the functions count
//! through the `metrics` facade, written by `metrics_cloudwatch_embedded` as one JSON
//! line per label set on stdout, where CloudWatch Logs turns them into metrics of the
//! [`NAMESPACE`] namespace with no PutMetricData call. Every metric carries the
//! `FunctionName` dimension (as AWS/Lambda's do), then its own labels.
//!
//! A Lambda installs the recorder at cold start ([`init`]) and [`flush`]es after each
//! invocation; elsewhere (eventctl, tests that install none) the counters go nowhere.

use std::sync::OnceLock;

use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use metrics_cloudwatch_embedded::{Builder, Collector};

use crate::error::Error;
use crate::model::WebhookFormat;

pub const NAMESPACE: &str = "EventService";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the EMF recorder in a Lambda (`AWS_LAMBDA_FUNCTION_NAME` set); elsewhere nothing.
pub fn init() {
    if let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        install(&function);
    }
}

/// Installs the EMF recorder with `function` as the FunctionName dimension. The first
/// call installs it for the whole process (the `metrics` facade has one recorder);
/// later calls answer that one.
pub fn install(function: &str) -> Option<&'static Collector> {
    if let Some(collector) = COLLECTOR.get() {
        return Some(collector);
    }
    let builder =
        Builder::new().cloudwatch_namespace(NAMESPACE).with_dimension("FunctionName", function.to_string());
    match builder.init() {
        Ok(collector) => {
            describe();
            Some(*COLLECTOR.get_or_init(|| collector))
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics recorder not installed; no EMF lines");
            None
        }
    }
}

fn describe() {
    describe_counter!("Deliveries", Unit::Count, "Webhook deliveries, by Format and outcome Code");
    describe_counter!("EventsStored", Unit::Count, "Events a delivery stored");
    describe_counter!("DuplicateEvents", Unit::Count, "Events of a redelivery, found already stored");
    describe_counter!("ParseErrorEvents", Unit::Count, "ERROR events stored for a body no format could read");
    describe_counter!("Refusals", Unit::Count, "Requests answered 4xx, by Operation and Code");
    describe_counter!("ServerErrors", Unit::Count, "Requests answered 5xx, by Operation and Code");
    describe_counter!("RollupRecordsSetAside", Unit::Count, "Stream records no retry could count");
    describe_histogram!(
        "RollupLagSeconds",
        Unit::Seconds,
        "Now minus the latest creation time a batch applied"
    );
    describe_counter!(
        "SweepResolutions",
        Unit::Count,
        "Alerts the sweep resolved past their auto-resolve time"
    );
}

/// Writes what was counted since the last flush, as EMF lines on stdout.
pub fn flush() {
    if let Some(collector) = COLLECTOR.get() {
        if let Err(e) = collector.flush(std::io::stdout().lock()) {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}

/// What one webhook delivery came to, with its outcome code (`OK`, or the error's
/// SpaceONE code). A delivery refused before its webhook was known has format `unknown`.
pub fn delivery(format: Option<WebhookFormat>, outcome: Result<Stored, &Error>) {
    let format = format.map_or("unknown", |f| f.as_str());
    let code = outcome.as_ref().map_or_else(|e| e.code(), |_| "OK");
    counter!("Deliveries", "Format" => format, "Code" => code).increment(1);
    if let Ok(stored) = outcome {
        counter!("EventsStored").increment(stored.events as u64);
        counter!("DuplicateEvents").increment(stored.duplicates as u64);
        counter!("ParseErrorEvents").increment(stored.parse_errors as u64);
    }
}

/// What a successful delivery stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stored {
    pub events: usize,
    pub duplicates: usize,
    pub parse_errors: usize,
}

/// A request answered with an error: a refusal (4xx) or a server error (5xx), by cause.
pub fn failed(operation: &'static str, err: &Error) {
    let name = if err.status() >= 500 { "ServerErrors" } else { "Refusals" };
    counter!(name, "Operation" => operation, "Code" => err.code()).increment(1);
}

/// A rollup batch: how far behind now its applied events are (none applied: no value;
/// a histogram, not a gauge, so a batch that applies nothing repeats no old lag), and
/// the records it set aside.
pub fn rollup_batch(lag_seconds: Option<f64>, set_aside: u64) {
    if let Some(lag) = lag_seconds {
        histogram!("RollupLagSeconds").record(lag);
    }
    counter!("RollupRecordsSetAside").increment(set_aside);
}

/// Alerts a sweep resolved.
pub fn sweep_resolved(alerts: u64) {
    counter!("SweepResolutions").increment(alerts);
}
