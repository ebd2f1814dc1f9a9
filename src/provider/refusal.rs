//! A 401 or 403 without an OAuth error body (RFC 6749 section 5.2 asks for one): what it can
//! mean for the call that got it, from what the metadata says and the client in use, the
//! likeliest cause first.

use super::Provider;
use super::calls::CallError;
use crate::config::by_hand;
use crate::oauth::AuthMethod;

/// Whether a status is a refusal of the client or its request.
pub fn is_refusal(status: u16) -> bool {
    matches!(status, 401 | 403)
}

impl Provider {
    /// An introspection or revocation error, a bare 401 or 403 explained.
    pub(super) fn explain_refusal(&self, field: &'static str, e: CallError) -> CallError {
        let status = match &e {
            CallError::NotJson { answer, .. } => answer.status,
            CallError::Status { status, .. } => *status,
            _ => return e,
        };
        if !is_refusal(status) {
            return e;
        }
        CallError::Unauthorized {
            status,
            what: label(field),
            why: self.why_refused(field),
        }
    }

    /// Why `field`'s endpoint may have refused this client, likeliest first.
    fn why_refused(&self, field: &'static str) -> String {
        let what = label(field);
        let method = self.auth_method.name();
        let public = self.auth_method == AuthMethod::None;
        let listed = self
            .endpoint_auth_methods
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, methods)| methods);
        match listed {
            Some(listed) if !listed.iter().any(|m| m == method) => format!(
                "The provider's metadata lists {}_auth_methods_supported {listed:?}, and this \
                 client authenticates with `{method}`{}: it cannot use {what} there. {}",
                field,
                if public { " (a public client)" } else { "" },
                if public {
                    "Use a confidential client (the CLIENT_ID and CLIENT_SECRET of one) for \
                     this step."
                } else {
                    "Set OAUTH_AUTH_METHOD to one it lists."
                }
            ),
            _ if public => format!(
                "This is a public client (no CLIENT_SECRET), which sends no client \
                 authentication, and many providers let only confidential clients use {what}: \
                 most likely that is why (use a confidential client for this step); less \
                 likely, {what} is not the right URL{}",
                by_hand(field)
            ),
            _ => format!(
                "Most likely the provider did not accept the client's authentication \
                 (CLIENT_ID, CLIENT_SECRET, OAUTH_AUTH_METHOD `{method}`) or does not let this \
                 client use {what}; less likely, {what} is not the right URL{}",
                by_hand(field)
            ),
        }
    }
}

fn label(field: &str) -> &'static str {
    match field {
        "introspection_endpoint" => "the introspection endpoint",
        "revocation_endpoint" => "the revocation endpoint",
        _ => "the endpoint",
    }
}

/// A token request refused with a bare 401 or 403: what to check, likeliest first. `scope`:
/// the scope sent, empty when none was.
pub fn token_refusal_hint(grant_without_user: bool, scope: &str) -> String {
    if grant_without_user && scope.is_empty() {
        return "No `scope` was sent (OAUTH_SCOPES is empty). RFC 6749 section 3.3 asks the \
                server to use a default scope or answer invalid_scope, but some refuse such a \
                request like this: try with OAUTH_SCOPES set to the scopes this client may ask \
                for. Else check CLIENT_ID, CLIENT_SECRET and OAUTH_AUTH_METHOD."
            .into();
    }
    "The provider refused the request without saying why: most likely the client's \
     authentication (CLIENT_ID, CLIENT_SECRET, OAUTH_AUTH_METHOD), else this client may not \
     use this grant or ask for these scopes (OAUTH_SCOPES)."
        .into()
}
