//! The EventRule API: SpaceONE monitoring's create, update, change-order, delete, get,
//! list and stat (`POST /monitoring/v1/event-rule/<method>`), each inside the caller's
//! domain.

use event_core::api::{self, decode, event_rule_decode as rules, tenant, EventRuleRoute};
use event_core::service::event_rules::{self as admin, rule_info};
use event_core::service::App;
use event_core::{Error, Result};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, route| async move {
        let mode = app.config.read_authorizer;
        let answer: Result<Value> = match route {
            EventRuleRoute::Create => {
                let request = rules::create_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                Ok(rule_info(&admin::create_in(app, &domain, request.query).await?))
            }
            EventRuleRoute::Update => {
                let request = rules::update_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                Ok(rule_info(&admin::update_in(app, &domain, &request.event_rule_id, request.value).await?))
            }
            EventRuleRoute::ChangeOrder => {
                let request = rules::change_order_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                let rule =
                    admin::change_order_in(app, &domain, &request.event_rule_id, request.value).await?;
                Ok(rule_info(&rule))
            }
            EventRuleRoute::Delete => {
                let request = rules::rule_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                admin::delete_in(app, &domain, &request.event_rule_id).await?;
                Ok(json!({}))
            }
            EventRuleRoute::Get => {
                let request = rules::rule_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                Ok(rule_info(&admin::get_in(app, &domain, &request.event_rule_id).await?))
            }
            EventRuleRoute::List => {
                let request = rules::list_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                to_json(admin::list_in(app, &domain, &request.query).await?)
            }
            EventRuleRoute::Stat => {
                let request = decode::stat_request(&req)?;
                let domain = tenant::caller_domain(&req, request.domain_id.as_deref(), mode)?;
                to_json(admin::stat_in(app, &domain, &request.query).await?)
            }
        };
        answer
    })
    .await
}

fn to_json(value: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}
