//! list: `GET /monitoring/v1/events`, `POST /monitoring/v1/events/search`,
//! `POST /monitoring/v1/event/list`. `next_token` (`""` to start) pages at constant cost.
//! Also Huawei's two event queries over the same events, each answering (errors too)
//! in its own API's shapes: Cloud Eye's `GET /V1.0/{project_id}/event/{event_name}` and
//! AOM's `POST /v2/{project_id}/events`. Both take `domain_id` from the query string, or
//! without it (Huawei's SDKs cannot send it) the domain whose webhooks name the path's
//! `{project_id}` ([`webhook_admin::project_domain`]).

use chrono::Utc;
use event_core::api::{self, decode, tenant, ListRoute};
use event_core::config::ReadAuthorizer;
use event_core::huawei::aom::AomAnswer;
use event_core::huawei::aom_request::AomQuery;
use event_core::huawei::cloud_eye::{CloudEyeAnswer, CloudEyeQuery};
use event_core::query::ListPage;
use event_core::service::{self, webhook_admin, App};
use event_core::tenant::AuthorizedDomain;
use event_core::Result;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// What list answers: SpaceONE's page, or one of Huawei's answers, each in its own shape.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Events(ListPage),
    CloudEye(CloudEyeAnswer),
    Aom(AomAnswer),
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, route| async move {
        let mode = app.config.read_authorizer;
        let params = req.query_string_parameters();
        let answer: Result<Answer> = match route {
            ListRoute::Events { from_query_string } => {
                let request = decode::list_request(&req, from_query_string)?;
                let mut domain = tenant::caller_domain(&req, request.scoped.domain_id.as_deref(), mode)?;
                if request.suppressed {
                    domain = domain.suppressed();
                }
                let query = &request.scoped.query;
                let page = service::list_events(app, &domain, query, request.next_token.as_deref()).await?;
                Ok(Answer::Events(page))
            }
            ListRoute::CloudEye { project_id, event_name } => {
                let query = CloudEyeQuery::parse(project_id, event_name, params.iter())?;
                let requested =
                    requested_domain(app, &req, query.domain_id.as_deref(), &query.project_id).await?;
                let domain = tenant::caller_domain(&req, requested.as_deref(), mode)?;
                vouched_project(app, &req, &domain, &query.project_id).await?;
                service::cloud_eye_events(app, &domain, &query).await.map(Answer::CloudEye)
            }
            ListRoute::Aom { project_id } => {
                let body = decode::body_object(&req)?;
                let query = AomQuery::parse(project_id, &body, params.iter(), Utc::now())?;
                let requested =
                    requested_domain(app, &req, query.domain_id.as_deref(), &query.project_id).await?;
                let domain = tenant::caller_domain(&req, requested.as_deref(), mode)?;
                vouched_project(app, &req, &domain, &query.project_id).await?;
                service::aom_events(app, &domain, &query).await.map(Answer::Aom)
            }
        };
        answer
    })
    .await
}

/// Behind an authorizer, the path's project is checked against the vouched-for domain
/// ([`webhook_admin::project_in`]); without one, the domain came from the project.
async fn vouched_project(
    app: &App,
    req: &Request,
    domain: &AuthorizedDomain,
    project_id: &str,
) -> Result<()> {
    match tenant::has_identity(req) {
        true => webhook_admin::project_in(app, domain, project_id).await,
        false => Ok(()),
    }
}

/// The domain a Huawei read asks for: its `domain_id`; without one, in IAM mode and
/// without an authorizer's verdict (whose claim decides otherwise), the domain whose
/// webhooks name the project.
async fn requested_domain(
    app: &App,
    req: &Request,
    domain_id: Option<&str>,
    project_id: &str,
) -> Result<Option<String>> {
    match domain_id.filter(|d| !d.is_empty()) {
        Some(domain) => Ok(Some(domain.to_string())),
        None if app.config.read_authorizer == ReadAuthorizer::Iam && !tenant::has_identity(req) => {
            webhook_admin::project_domain(app, project_id).await.map(Some)
        }
        None => Ok(None),
    }
}
