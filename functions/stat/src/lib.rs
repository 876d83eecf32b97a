//! stat: `POST /monitoring/v1/events/stat` and `POST /monitoring/v1/event/stat`
//! (`suppressed: true`: over the events maintenance windows suppressed instead).

use event_core::api::{self, decode, tenant, StatRoute};
use event_core::service::{self, App};
use lambda_http::{Body, Request, Response};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, StatRoute| async move {
        let (request, suppressed) = decode::event_stat_request(&req)?;
        let mut domain =
            tenant::caller_domain(&req, request.domain_id.as_deref(), app.config.read_authorizer)?;
        if suppressed {
            domain = domain.suppressed();
        }
        service::stat_events(app, &domain, &request.query).await
    })
    .await
}
