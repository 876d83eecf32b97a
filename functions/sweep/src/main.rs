//! The sweep Lambda, on an EventBridge schedule: writes down the resolution of alerts
//! past their auto-resolve time (`event_core::service::sweep`). Readers see them
//! RESOLVED before it runs; this moves them out of the open alarms and frees their key.
//! And opens the alert of every webhook whose heartbeat is overdue
//! (`event_core::service::heartbeats`).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    event_core::logging::init();
    event_core::telemetry::init();
    let app = event_core::service::App::from_env().await?;
    let app = &app;
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        let now = chrono::Utc::now();
        let resolved = event_core::service::sweep::sweep_expired_alerts(app, now)
            .await
            .inspect_err(|err| tracing::error!(code = err.code(), error = %err, "sweep failed"))?;
        event_core::telemetry::sweep_resolved(resolved as u64);
        let missed = event_core::service::heartbeats::sweep_heartbeats(app, now)
            .await
            .inspect_err(|err| tracing::error!(code = err.code(), error = %err, "heartbeat sweep failed"));
        event_core::telemetry::flush();
        Ok::<_, Error>(json!({ "resolved": resolved, "heartbeats_missed": missed? }))
    }))
    .await
}
