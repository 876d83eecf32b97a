//! Who is asking, and for which domain: the one tenant extractor of every read route.
//!
//! The read routes run in one of two modes, set by the template from `ReadAuthorizer`
//! (`READ_AUTHORIZER`):
//! - **JWT** (`JwtAuthorizer`): the caller's domain is the token's `domain_id` claim (or
//!   `custom:domain_id`, as Cognito names custom attributes). A token without one (a
//!   Cognito access token, a machine token) is refused, and so is a request naming
//!   another domain.
//! - **IAM** (`AWS_IAM`, and the local stack): SigV4 says only that the caller may call
//!   the API, not which domain it belongs to, so the request's own `domain_id` is trusted.
//!   Meant for a trusted backend only.
//!
//! Fail closed: any authorizer context that carries no domain claim is refused in either
//! mode, and a JWT function refuses a request that arrives without a token's claims.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::config::ReadAuthorizer;
use crate::error::{Error, Result};

const CLAIMS: [&str; 2] = ["domain_id", "custom:domain_id"];

/// What the API Gateway authorizer says of the caller.
#[derive(Debug, PartialEq)]
enum Identity {
    /// No authorizer ran (IAM routes, the local stack).
    Absent,
    /// An authorizer vouched for the caller; the domain claim, if it carried one.
    Authorized(Option<String>),
}

/// The domain this request may read: the authorized one, never merely the requested one
/// unless the mode is IAM.
pub fn caller_domain(req: &Request, requested: Option<&str>, mode: ReadAuthorizer) -> Result<String> {
    let domain = authorized_domain(identity(req), requested.filter(|d| !d.is_empty()), mode)?;
    tracing::Span::current().record("domain_id", domain.as_str());
    Ok(domain)
}

fn authorized_domain(identity: Identity, requested: Option<&str>, mode: ReadAuthorizer) -> Result<String> {
    match (identity, mode) {
        (Identity::Authorized(None), _) => Err(Error::PermissionDenied(
            "Your token carries no domain_id claim (nor custom:domain_id), so it cannot read any domain. \
             Use an ID token, or add the claim to the token."
                .into(),
        )),
        (Identity::Authorized(Some(identity)), _) => match requested {
            Some(requested) if requested != identity => Err(Error::PermissionDenied(format!(
                "Your identity belongs to domain {identity}; it cannot read domain {requested}."
            ))),
            _ => Ok(identity),
        },
        (Identity::Absent, ReadAuthorizer::Jwt) => Err(Error::PermissionDenied(
            "This API reads the caller's domain from a JWT, and the request carries none.".into(),
        )),
        (Identity::Absent, ReadAuthorizer::Iam) => match requested {
            Some(requested) => Ok(requested.to_string()),
            None => Err(Error::RequiredParameter("domain_id".into())),
        },
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const IAM: ReadAuthorizer = ReadAuthorizer::Iam;
    const JWT: ReadAuthorizer = ReadAuthorizer::Jwt;

    fn claims(domain: &str) -> Identity {
        Identity::Authorized(Some(domain.into()))
    }

    #[test]
    fn a_token_without_a_domain_claim_reads_nothing_whatever_the_request_names() {
        for mode in [IAM, JWT] {
            let err = authorized_domain(Identity::Authorized(None), Some("domain-b"), mode).unwrap_err();
            assert_eq!(err.status(), 403, "{mode:?}");
            assert!(err.to_string().contains("domain_id claim"), "{err}");
        }
    }

    #[test]
    fn the_claim_decides_and_a_different_request_is_refused() {
        assert_eq!(authorized_domain(claims("domain-a"), None, JWT).unwrap(), "domain-a");
        assert_eq!(authorized_domain(claims("domain-a"), Some("domain-a"), JWT).unwrap(), "domain-a");
        assert_eq!(authorized_domain(claims("domain-a"), Some("domain-b"), JWT).unwrap_err().status(), 403);
    }

    #[test]
    fn only_iam_mode_trusts_the_request() {
        assert_eq!(authorized_domain(Identity::Absent, Some("domain-b"), IAM).unwrap(), "domain-b");
        assert_eq!(authorized_domain(Identity::Absent, None, IAM).unwrap_err().status(), 400);
        assert_eq!(authorized_domain(Identity::Absent, Some("domain-b"), JWT).unwrap_err().status(), 403);
    }
}
