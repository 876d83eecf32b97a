//! The rollup Lambda: builds the consumer once per instance, then counts each batch.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    event_core::logging::init();
    event_core::telemetry::init();
    let app = event_core::service::App::from_env().await?;
    let consumer = event_core::service::RollupConsumer::new(app.store, app.config.retention_days)
        .dense_from(app.config.rollup_dense_batch_events);
    let consumer = &consumer;
    run(service_fn(move |event: LambdaEvent<_>| async move {
        let answer = event_rollup::handle(consumer, event.payload).await;
        event_core::telemetry::flush(); // this batch's lag, as an EMF line
        answer.map_err(Error::from)
    }))
    .await
}
