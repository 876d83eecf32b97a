//! The event_rules Lambda (the EventRule API): builds the clients once per instance, then serves invocations.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    event_core::lambda::serve_http(event_event_rules::handle).await
}
