//! The list Lambda: builds the clients once per instance, then serves invocations.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    event_core::logging::init();
    event_core::telemetry::init();
    let app = event_core::service::App::from_env().await?;
    let app = &app;
    run(service_fn(move |req| async move {
        let response = event_list::handle(app, req).await;
        event_core::telemetry::flush(); // this invocation's metrics, as EMF lines
        Ok::<_, Error>(response)
    }))
    .await
}
