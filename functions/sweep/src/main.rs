//! The sweep Lambda, on an EventBridge schedule: writes down the resolution of alerts
//! past their auto-resolve time (`event_core::service::sweep`). Readers see them
//! RESOLVED before it runs; this moves them out of the open alarms and frees their key.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    event_core::logging::init();
    event_core::telemetry::init();
    let app = event_core::service::App::from_env().await?;
    let app = &app;
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        let resolved = event_core::service::sweep::sweep_expired_alerts(app, chrono::Utc::now())
            .await
            .inspect_err(|err| tracing::error!(code = err.code(), error = %err, "sweep failed"))?;
        event_core::telemetry::sweep_resolved(resolved as u64);
        event_core::telemetry::flush();
        Ok::<_, Error>(json!({ "resolved": resolved }))
    }))
    .await
}
