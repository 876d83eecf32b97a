//! Who is asking: the one tenant extractor of every read route. It reads the API
//! Gateway authorizer's verdict from either payload and hands it to
//! [`crate::tenant::authorize`], which decides (see there for the two modes).

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::config::ReadAuthorizer;
use crate::error::Result;
use crate::tenant::{authorize, AuthorizedDomain, Identity};

const CLAIMS: [&str; 2] = ["domain_id", "custom:domain_id"];

/// The domain this request may read: the authorized one, never merely the requested one
/// unless the mode is IAM.
pub fn caller_domain(
    req: &Request,
    requested_domain: Option<&str>,
    mode: ReadAuthorizer,
) -> Result<AuthorizedDomain> {
    let domain = authorize(identity(req), requested_domain, mode)?;
    tracing::Span::current().record("domain_id", domain.as_str());
    Ok(domain)
}

/// Whether an authorizer vouched for the caller (whose claim, not the request, then
/// decides the domain).
pub fn has_identity(req: &Request) -> bool {
    identity(req) != Identity::Absent
}

/// The authorizer's verdict, read from either API Gateway payload.
fn identity(req: &Request) -> Identity {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => match ctx.authorizer.as_ref() {
            Some(authorizer) if authorizer.jwt.is_some() || !authorizer.fields.is_empty() => {
                let jwt = authorizer.jwt.as_ref().and_then(|jwt| {
                    CLAIMS.iter().find_map(|c| jwt.claims.get(*c)).filter(|d| !d.is_empty()).cloned()
                });
                Identity::Authorized(jwt.or_else(|| claim_in(|c| authorizer.fields.get(c))))
            }
            _ => Identity::Absent,
        },
        Some(RequestContext::ApiGatewayV1(ctx)) => {
            let fields = &ctx.authorizer.fields;
            if fields.is_empty() {
                return Identity::Absent;
            }
            // Cognito and JWT authorizers nest claims; Lambda authorizers put context keys at the top.
            let nested = match fields.get("claims") {
                Some(Value::Object(claims)) => claim_in(|c| claims.get(c)),
                _ => None,
            };
            Identity::Authorized(nested.or_else(|| claim_in(|c| fields.get(c))))
        }
        #[allow(unreachable_patterns)] // other event sources, if a feature enables them
        _ => Identity::Absent,
    }
}

/// The first domain claim among an authorizer's fields, by the lookup `get`.
fn claim_in<'a>(get: impl Fn(&str) -> Option<&'a Value>) -> Option<String> {
    CLAIMS.iter().find_map(|c| get(c)?.as_str().map(str::to_string)).filter(|d| !d.is_empty())
}
