//! Who is asking, and for which domain: the one tenant extractor of every read route.
//!
//! With an authorizer in front (JWT on an HTTP API, a Cognito or Lambda authorizer on a
//! REST API), the caller's domain is the `domain_id` claim (or `custom:domain_id`, as
//! Cognito names custom attributes) and a request naming another domain is refused.
//! Without one (IAM-protected routes), the request's own `domain_id` is required.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::error::{Error, Result};

const CLAIMS: [&str; 2] = ["domain_id", "custom:domain_id"];

/// The domain this request may read.
pub fn caller_domain(req: &Request, requested: Option<&str>) -> Result<String> {
    let requested = requested.filter(|d| !d.is_empty());
    let domain = match (identity_domain(req), requested) {
        (Some(identity), Some(requested)) if identity != requested => {
            return Err(Error::PermissionDenied(format!(
                "Your identity belongs to domain {identity}; it cannot read domain {requested}."
            )))
        }
        (Some(identity), _) => identity,
        (None, Some(requested)) => requested.to_string(),
        (None, None) => return Err(Error::RequiredParameter("domain_id".into())),
    };
    tracing::Span::current().record("domain_id", domain.as_str());
    Ok(domain)
}

/// The domain claim the API Gateway authorizer vouched for, if any.
fn identity_domain(req: &Request) -> Option<String> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let authorizer = ctx.authorizer.as_ref()?;
            let jwt = authorizer
                .jwt
                .as_ref()
                .and_then(|jwt| CLAIMS.iter().find_map(|c| jwt.claims.get(*c)).cloned());
            jwt.or_else(|| claim_in(&authorizer.fields))
        }
        RequestContext::ApiGatewayV1(ctx) => {
            let fields = &ctx.authorizer.fields;
            // Cognito and JWT authorizers nest claims; Lambda authorizers put context keys at the top.
            let nested = match fields.get("claims") {
                Some(Value::Object(claims)) => {
                    CLAIMS.iter().find_map(|c| claims.get(*c)?.as_str().map(str::to_string))
                }
                _ => None,
            };
            nested.or_else(|| claim_in(fields))
        }
        #[allow(unreachable_patterns)] // other event sources, if a feature enables them
        _ => None,
    }
}

fn claim_in(fields: &std::collections::HashMap<String, Value>) -> Option<String> {
    CLAIMS.iter().find_map(|c| fields.get(*c)?.as_str().map(str::to_string)).filter(|d| !d.is_empty())
}
