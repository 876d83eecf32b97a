//! Which domain a read may see. [`AuthorizedDomain`] is the only way into a domain's
//! events: every read in `service` and `store` takes one, and only [`authorize`] makes
//! one, so a read that skips the tenant check does not compile.
//!
//! The read functions run in one of two modes, set by the template from
//! `ReadAuthorizer` (`READ_AUTHORIZER`, see [`ReadAuthorizer`]):
//! - **JWT**: the domain is the token's claim. A token without one (a Cognito access
//!   token, a machine token) is refused, and so is a request naming another domain.
//! - **IAM** (and the local stack): SigV4 says only that the caller may call the API, not
//!   which domain it belongs to, so the requested domain is trusted. For a trusted
//!   backend only.
//!
//! Fail closed: an authorizer's verdict without a domain claim is refused in either mode,
//! and a JWT function refuses a request that arrives without a verdict.

use crate::config::ReadAuthorizer;
use crate::error::{Error, Result};

/// A domain the tenant check let this request read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedDomain(String);

impl AuthorizedDomain {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same tenant's suppressed events (ALERTs a maintenance window held back), which
    /// the store keeps in a partition of their own: what list and stat read when asked
    /// for them.
    pub fn suppressed(&self) -> AuthorizedDomain {
        AuthorizedDomain(format!("{}{SUPPRESSED}", self.0))
    }
}

/// The suffix of a domain's suppressed-events partition. No domain id may contain `#`.
pub const SUPPRESSED: &str = "#suppressed";

impl std::fmt::Display for AuthorizedDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The domain of a webhook whose access key the caller presented, checked before
/// (update_state: a notification's link carries the key instead of a token).
pub(crate) fn webhook_domain(webhook: &crate::model::Webhook) -> AuthorizedDomain {
    AuthorizedDomain(webhook.domain_id.clone())
}

/// The domain of events the events stream delivered, which the rollup consumer reads
/// back from the index to check its counts: no caller is involved.
pub(crate) fn stream_domain(domain_id: &str) -> AuthorizedDomain {
    AuthorizedDomain(domain_id.to_string())
}

/// A domain for unit tests, as a trusted caller in IAM mode would name it.
#[cfg(test)]
pub(crate) fn trusted(domain: &str) -> AuthorizedDomain {
    authorize(Identity::Absent, Some(domain), ReadAuthorizer::Iam)
        .expect("a named domain is trusted in IAM mode")
}

/// What the API Gateway authorizer said of the caller.
#[derive(Debug, PartialEq)]
pub enum Identity {
    /// No authorizer ran (IAM routes, the local stack, a trusted caller in-process).
    Absent,
    /// An authorizer vouched for the caller; the domain claim, if it carried one.
    Authorized(Option<String>),
}

/// The tenant check: the domain `identity` may read, given the domain the request names
/// (`requested_domain`) and the function's mode.
pub fn authorize(
    identity: Identity,
    requested_domain: Option<&str>,
    mode: ReadAuthorizer,
) -> Result<AuthorizedDomain> {
    let requested_domain = requested_domain.filter(|d| !d.is_empty());
    if requested_domain.is_some_and(|d| d.contains('#')) {
        return Err(Error::invalid("'domain_id' may not contain '#'."));
    }
    match (identity, mode) {
        (Identity::Authorized(None), _) => Err(Error::PermissionDenied(
            "Your token carries no domain_id claim (nor custom:domain_id), so it cannot read any domain. \
             Use an ID token, or add the claim to the token."
                .into(),
        )),
        (Identity::Authorized(Some(claimed)), _) if claimed.contains('#') => {
            Err(Error::PermissionDenied("Your token's domain_id claim is not a domain id.".into()))
        }
        (Identity::Authorized(Some(claimed)), _) => match requested_domain {
            Some(requested) if requested != claimed => Err(Error::PermissionDenied(format!(
                "Your identity belongs to domain {claimed}; it cannot read domain {requested}."
            ))),
            _ => Ok(AuthorizedDomain(claimed)),
        },
        (Identity::Absent, ReadAuthorizer::Jwt) => Err(Error::PermissionDenied(
            "This API reads the caller's domain from a JWT, and the request carries none.".into(),
        )),
        (Identity::Absent, ReadAuthorizer::Iam) => match requested_domain {
            Some(requested) => Ok(AuthorizedDomain(requested.to_string())),
            None => Err(Error::RequiredParameter("domain_id".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IAM: ReadAuthorizer = ReadAuthorizer::Iam;
    const JWT: ReadAuthorizer = ReadAuthorizer::Jwt;

    fn claims(domain: &str) -> Identity {
        Identity::Authorized(Some(domain.into()))
    }

    fn domain(result: Result<AuthorizedDomain>) -> String {
        result.unwrap().as_str().to_string()
    }

    #[test]
    fn a_token_without_a_domain_claim_reads_nothing_whatever_the_request_names() {
        for mode in [IAM, JWT] {
            let err = authorize(Identity::Authorized(None), Some("domain-b"), mode).unwrap_err();
            assert_eq!(err.status(), 403, "{mode:?}");
            assert!(err.to_string().contains("domain_id claim"), "{err}");
        }
    }

    #[test]
    fn the_claim_decides_and_a_different_request_is_refused() {
        assert_eq!(domain(authorize(claims("domain-a"), None, JWT)), "domain-a");
        assert_eq!(domain(authorize(claims("domain-a"), Some("domain-a"), JWT)), "domain-a");
        assert_eq!(domain(authorize(claims("domain-a"), Some(""), JWT)), "domain-a");
        assert_eq!(authorize(claims("domain-a"), Some("domain-b"), JWT).unwrap_err().status(), 403);
    }

    #[test]
    fn no_domain_names_a_suppressed_partition() {
        assert_eq!(authorize(Identity::Absent, Some("domain-b#suppressed"), IAM).unwrap_err().status(), 400);
        assert_eq!(authorize(claims("domain-a#suppressed"), None, JWT).unwrap_err().status(), 403);
        let domain = authorize(Identity::Absent, Some("domain-b"), IAM).unwrap();
        assert_eq!(domain.suppressed().as_str(), "domain-b#suppressed");
    }

    #[test]
    fn only_iam_mode_trusts_the_request() {
        assert_eq!(domain(authorize(Identity::Absent, Some("domain-b"), IAM)), "domain-b");
        assert_eq!(authorize(Identity::Absent, None, IAM).unwrap_err().status(), 400);
        assert_eq!(authorize(Identity::Absent, Some(""), IAM).unwrap_err().status(), 400);
        assert_eq!(authorize(Identity::Absent, Some("domain-b"), JWT).unwrap_err().status(), 403);
    }
}
