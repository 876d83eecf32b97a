//! list: `GET /monitoring/v1/events`, `POST /monitoring/v1/events/search`,
//! `POST /monitoring/v1/event/list`. `next_token` (`""` to start) pages at constant cost.

use event_core::api::{self, decode, tenant, ListRoute};
use event_core::service::{self, App};
use lambda_http::{Body, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, ListRoute { from_query_string }| async move {
        let request = decode::list_request(&req, from_query_string)?;
        let domain =
            tenant::caller_domain(&req, request.scoped.domain_id.as_deref(), app.config.read_authorizer)?;
        service::list_events(&app.store, &domain, &request.scoped.query, request.next_token.as_deref()).await
    })
    .await
}
