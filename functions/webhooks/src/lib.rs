//! The Webhook API: create (`POST /monitoring/v1/webhooks`, `POST
//! /monitoring/v1/webhook/create`), get, list, stat, update, update-plugin, enable,
//! disable, delete on both path generations, and rotate-key (`POST
//! /monitoring/v1/webhook/rotate-key`). Every operation is inside the caller's domain;
//! only create and rotate-key answer the access key.

use event_core::api::{self, decode, tenant, webhook_decode, WebhookRoute};
use event_core::model::WebhookState;
use event_core::service::webhook_admin::{self as admin, issued_info};
use event_core::service::App;
use event_core::{Error, Result};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, route| async move {
        let mode = app.config.read_authorizer;
        let answer: Result<Value> = match route {
            WebhookRoute::Create => {
                let request = webhook_decode::create_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let issued = admin::create_in(
                    app,
                    &domain,
                    request.project_id,
                    request.workspace_id,
                    &request.settings,
                )
                .await?;
                Ok(issued_info(&issued, app.config.huawei_signing_secret.as_ref()))
            }
            WebhookRoute::Get { webhook_id } => {
                let request = webhook_decode::webhook_request(&req, webhook_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let webhook = admin::webhook_in(app, &domain, &request.webhook_id).await?;
                Ok(admin::info_of(app, &domain, &webhook).await)
            }
            WebhookRoute::List { from_query_string } => {
                let request = webhook_decode::list_request(&req, from_query_string)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                to_json(admin::list_in(app, &domain, &request.query).await?)
            }
            WebhookRoute::Stat => {
                let request = decode::stat_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                to_json(admin::stat_in(app, &domain, &request.query).await?)
            }
            WebhookRoute::Update { webhook_id } => {
                let request = webhook_decode::update_request(&req, webhook_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let webhook = admin::update_in(app, &domain, &request.webhook_id, &request.value).await?;
                Ok(admin::info_of(app, &domain, &webhook).await)
            }
            WebhookRoute::UpdatePlugin { webhook_id } => {
                let request = webhook_decode::update_plugin_request(&req, webhook_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let webhook = admin::update_in(app, &domain, &request.webhook_id, &request.value).await?;
                Ok(admin::info_of(app, &domain, &webhook).await)
            }
            WebhookRoute::Enable { webhook_id } => {
                set_state(app, &req, webhook_id, WebhookState::Enabled).await
            }
            WebhookRoute::Disable { webhook_id } => {
                set_state(app, &req, webhook_id, WebhookState::Disabled).await
            }
            WebhookRoute::Delete { webhook_id } => {
                let request = webhook_decode::webhook_request(&req, webhook_id)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                admin::delete_in(app, &domain, &request.webhook_id).await?;
                Ok(json!({}))
            }
            WebhookRoute::RotateKey => {
                let request = webhook_decode::rotate_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                {
                    let issued = admin::rotate_in(app, &domain, &request.webhook_id, request.value).await?;
                    Ok(issued_info(&issued, app.config.huawei_signing_secret.as_ref()))
                }
            }
        };
        answer
    })
    .await
}

async fn set_state(
    app: &App,
    req: &Request,
    webhook_id: Option<String>,
    state: WebhookState,
) -> Result<Value> {
    let request = webhook_decode::webhook_request(req, webhook_id)?;
    let domain = tenant::caller_domain(req, request.domain_id.as_deref(), app.config.read_authorizer)?;
    let webhook = admin::set_state_in(app, &domain, &request.webhook_id, state).await?;
    Ok(admin::info_of(app, &domain, &webhook).await)
}

fn to_json(value: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}
