//! The webhooks Lambda (the Webhook API): builds the clients once per instance, then serves invocations.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    event_core::lambda::serve_http(event_webhooks::handle).await
}
