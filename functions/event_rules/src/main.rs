//! The event_rules Lambda (the EventRule API): builds the clients once per instance, then serves invocations.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    event_core::logging::init();
    let app = event_core::service::App::from_env().await?;
    let app = &app;
    run(service_fn(move |req| async move { Ok::<_, Error>(event_event_rules::handle(app, req).await) })).await
}
