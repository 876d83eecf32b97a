//! The invocation loop every HTTP function runs: logging and metrics set up, the [`App`]
//! built once per instance (cold start), then each API Gateway request through the
//! function's handler, its metrics flushed as EMF lines after it.

use std::future::Future;

use lambda_http::{run, service_fn, Body, Error, Request, Response};

use crate::service::App;

/// Serves `handle` until the Lambda runtime stops the instance. The App lives as long
/// as the instance, so handlers borrow it for `'static`.
pub async fn serve_http<F, Fut>(handle: F) -> Result<(), Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::logging::init();
    crate::telemetry::init();
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    run(service_fn(move |req| async move {
        let response = handle(app, req).await;
        crate::telemetry::flush();
        Ok::<_, Error>(response)
    }))
    .await
}
