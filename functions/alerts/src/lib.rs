//! The Alert API over the alerts this service keeps: get (`GET /monitoring/v1/alert/{alert_id}`,
//! `POST /monitoring/v1/alert/get`), list (`GET /monitoring/v1/alerts`, `POST
//! /monitoring/v1/alerts/search`, `POST /monitoring/v1/alert/list`), stat (`POST
//! /monitoring/v1/alerts/stat`, `POST /monitoring/v1/alert/stat`), update (`PUT
//! /monitoring/v1/alert/{alert_id}`, `POST /monitoring/v1/alert/update`) and update_state
//! (`POST /monitoring/v1/alert/{alert_id}/{access_key}/{state}`, a notification's link,
//! authorized by the alert's webhook's access key instead of a token).

use event_core::api::{self, alert_decode, decode, tenant, AlertRoute};
use event_core::service::{self, alert_info, App};
use event_core::{Error, Result};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, route| async move {
        let mode = app.config.read_authorizer;
        let answer: Result<Value> = match route {
            AlertRoute::Get { alert_id } => {
                let request = alert_decode::get_request(&req, alert_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                service::alert_detail(app, &domain, &request.alert_id).await
            }
            AlertRoute::List { from_query_string } => {
                let request = alert_decode::list_request(&req, from_query_string)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let token = request.next_token.as_deref();
                let page =
                    service::list_alerts(&app.store, &domain, &request.query, request.state, token).await?;
                to_json(page)
            }
            AlertRoute::Stat => {
                let request = decode::stat_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                to_json(service::stat_alerts(&app.store, &domain, &request.query, None).await?)
            }
            AlertRoute::Update { alert_id } => {
                let request = alert_decode::update_request(&req, alert_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let alert =
                    service::update_alert(app, &domain, &request.alert_id, &request.edit, request.state)
                        .await?;
                Ok(alert_info(&alert))
            }
            AlertRoute::UpdateState { alert_id, access_key, state } => {
                Ok(alert_info(&service::update_alert_state(app, &alert_id, &access_key, &state).await?))
            }
        };
        answer
    })
    .await
}

fn to_json(value: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}
