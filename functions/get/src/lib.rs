//! get: `GET /monitoring/v1/event/{event_id}` and `POST /monitoring/v1/event/get`; and
//! the web console's files (`GET /console`, `GET /console/{asset}`), which ride on this
//! function so that opening the console needs no function, cold start or bucket of its
//! own (README, "The web console").

use event_core::api::{self, console, decode, response, tenant, GetRoute};
use event_core::service::{self, App};
use lambda_http::{Body, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    if let Some(route) = console::route_of(&req) {
        return console::respond(&req, route, app.config.read_authorizer);
    }
    api::serve(req, |req, GetRoute { event_id }| async move {
        let request = decode::get_request(&req, event_id)?;
        let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), app.config.read_authorizer)?;
        let event = service::get_event(&app.store, &domain, &request.event_id, &request.only).await?;
        response::event(&event, request.only)
    })
    .await
}
