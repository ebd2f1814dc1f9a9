//! Why a sign-in did not end in tokens (`FlowError`): its code, hint and JSON, and its
//! answer as a page or JSON (`Failure`, an actix `ResponseError`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use super::Format;
use super::templates::ErrorPage;
use crate::config::registered::Registration;
use crate::flow::StateError;
use crate::provider::{HttpError, IssError, TokenError};
use crate::redact::untrusted;

/// Why a callback did not end in tokens. Shown as a page, as JSON, and (with `--once`) on
/// stdout; never contains the code, the verifier or a token.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{}", untrusted(.0))]
    BadQuery(String),
    #[error("state check failed: {0}")]
    State(#[from] StateError),
    #[error("{0}: refusing to redeem the code")]
    Iss(#[from] IssError),
    /// RFC 9207 section 2.4: an error response must carry `iss` too; without it, its error
    /// cannot be shown to come from the configured provider.
    #[error(
        "{iss}; the error it carries is unverified: {error}{}",
        description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    UnverifiedError {
        iss: IssError,
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },
    #[error("the pushed authorization request failed: {0}")]
    Par(crate::provider::calls::CallError),
    // Both come from the callback's query: anyone can send them (escaped for terminals).
    #[error(
        "the provider returned an error: {}{}",
        untrusted(.error),
        .description.as_deref().map(|d| format!(" ({})", untrusted(d))).unwrap_or_default()
    )]
    Authorization {
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },
    #[error("the callback has neither a code nor an error")]
    MissingCode,
    #[error("the code exchange failed: {0}")]
    Token(#[from] TokenError),
}

impl FlowError {
    /// Which step of the flow failed.
    pub fn step(&self) -> &'static str {
        match self {
            Self::BadQuery(_) | Self::State(_) | Self::Iss(_) | Self::MissingCode => "callback",
            Self::Authorization { .. } | Self::UnverifiedError { .. } => "authorization",
            Self::Par(_) => "par",
            Self::Token(_) => "token",
        }
    }

    /// Whether this ends a `--once` run: only a callback that reached a flow this app started
    /// in this browser does. A stray or forged callback (any local process, an `<img>` on any
    /// page) gets its page, and the run keeps waiting for the real one.
    pub fn ends_run(&self) -> bool {
        !matches!(self, Self::BadQuery(_) | Self::State(_))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Par(_) => StatusCode::BAD_GATEWAY,
            Self::Token(TokenError::Http(_)) => StatusCode::BAD_GATEWAY,
            Self::Token(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A short machine-readable code: the provider's own `error` when it sent one.
    pub fn code(&self) -> String {
        match self {
            Self::Authorization { error, .. } | Self::Token(TokenError::Provider { error, .. }) => {
                error.clone()
            }
            Self::State(StateError::Missing) => "missing_state".into(),
            Self::State(StateError::Replayed) => "state_replayed".into(),
            Self::State(StateError::Unknown) => "unknown_state".into(),
            Self::State(StateError::Expired) => "flow_expired".into(),
            Self::State(StateError::OtherBrowser) => "other_browser".into(),
            Self::UnverifiedError { .. } => "error_without_iss".into(),
            Self::Par(crate::provider::calls::CallError::Refused { error, .. }) => error.clone(),
            Self::Par(_) => "par_failed".into(),
            Self::Iss(_) => "issuer_mismatch".into(),
            Self::BadQuery(_) => "bad_callback".into(),
            Self::MissingCode => "missing_code".into(),
            Self::Token(TokenError::Http(HttpError::Timeout { .. })) => "provider_timeout".into(),
            Self::Token(TokenError::Http(HttpError::TooLarge { .. })) => {
                "response_too_large".into()
            }
            Self::Token(TokenError::Http(HttpError::Redirect { .. })) => {
                "provider_redirected".into()
            }
            Self::Token(TokenError::Http(_)) => "provider_unreachable".into(),
            Self::Token(_) => "bad_token_response".into(),
        }
    }

    /// The provider's `error_description` and `error_uri`, when it sent them.
    pub fn provider_detail(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Self::Authorization {
                description, uri, ..
            }
            | Self::UnverifiedError {
                description, uri, ..
            }
            | Self::Token(TokenError::Provider {
                description, uri, ..
            }) => (description.as_deref(), uri.as_deref()),
            Self::Par(crate::provider::calls::CallError::Refused { description, .. }) => {
                (description.as_deref(), None)
            }
            _ => (None, None),
        }
    }

    /// What to change, for the mistakes people make most.
    pub fn hint(&self, redirect_uri: &str) -> Option<String> {
        self.hint_with(redirect_uri, None)
    }

    /// The hint, knowing how the client came to be when it was registered (RFC 7591): the
    /// user set neither CLIENT_ID nor CLIENT_SECRET then, so the usual hint would be false.
    pub fn hint_with(
        &self,
        redirect_uri: &str,
        registration: Option<&Registration>,
    ) -> Option<String> {
        if let (Some(r), Self::Token(TokenError::Provider { error, .. })) = (registration, self)
            && (error == "invalid_client" || error == "unauthorized_client")
        {
            return Some(registered_client_refused(error, r));
        }
        if let Self::Token(e) = self
            && e.refused_without_error()
        {
            return Some(crate::provider::refusal::token_refusal_hint(false, ""));
        }
        let (description, _) = self.provider_detail();
        let mentions_redirect =
            description.is_some_and(|d| d.to_ascii_lowercase().contains("redirect"));
        let hint = match self.code().as_str() {
            _ if mentions_redirect || self.code() == "invalid_redirect_uri" => format!(
                "The provider's dashboard must list REDIRECT_URI exactly, character for character: {redirect_uri}"
            ),
            "access_denied" => "The sign-in was declined on the provider's consent or login page (or its policy \
                                refused this application). Sign in again and approve."
                .into(),
            "invalid_client" | "unauthorized_client" if matches!(self, Self::Token(_)) => {
                "The provider did not accept the client's credentials: check that CLIENT_ID and CLIENT_SECRET \
                 match the OAuth application in the dashboard (for a public client, leave CLIENT_SECRET empty; \
                 for private_key_jwt, register the key set --print-jwks prints for OAUTH_CLIENT_KEY)."
                    .into()
            }
            "invalid_client" | "unauthorized_client" => {
                "The provider does not know this client or its grant: check CLIENT_ID, and that the application \
                 allows the authorization code grant."
                    .into()
            }
            "invalid_scope" => "A scope in OAUTH_SCOPES is not allowed for this application: remove it, or enable \
                                it in the dashboard."
                .into(),
            "invalid_grant" => "The code was refused: it expired, was used already, or the redirect URI or PKCE \
                                verifier did not match. Start again at /login; if it repeats, check REDIRECT_URI."
                .into(),
            "consent_required" => "The user has not approved this application's scopes yet, and the request \
                                   told the provider not to ask (prompt=none). Sign in again without prompt=none \
                                   (plain /login) and approve the consent page, or mark the application as \
                                   trusted / skip consent in the provider's dashboard."
                .into(),
            "login_required" | "interaction_required" | "account_selection_required" => {
                "The provider needs the user to sign in first, and the request told it not to show a page \
                 (prompt=none): sign in again without prompt=none (plain /login)."
                    .into()
            }
            "other_browser" => "The sign-in must finish in the browser that started it: open the sign-in URL \
                                that oauth-test-client printed in this browser, and sign in from there."
                .into(),
            "error_without_iss" => "The provider sent an error without `iss`, although its metadata says it adds \
                                    `iss` to every authorization response (RFC 9207). The error shown is \
                                    probably the real reason, but it cannot be verified; the provider should \
                                    add `iss` to error responses too."
                .into(),
            "par_failed" => "Check that the client may use PAR at the provider, or drop --par (OAUTH_PAR)."
                .into(),
            "unknown_state" | "state_replayed" | "flow_expired" | "missing_state" => {
                "Start a new sign-in at /login; each sign-in can be completed once, within 10 minutes, by this \
                 running app."
                    .into()
            }
            "issuer_mismatch" => "The response came from, or claims to come from, another provider than the one \
                                  configured: this is what a mix-up attack looks like."
                .into(),
            "provider_unreachable" => "Check that the provider is reachable from this machine (OAUTH_ISSUER, \
                                       proxies, OAUTH_CA_CERT for a private CA)."
                .into(),
            "provider_timeout" => "The provider did not answer in time: try again, or raise \
                                   OAUTH_HTTP_TIMEOUT if it is slow by nature."
                .into(),
            _ => return None,
        };
        Some(hint)
    }

    /// The JSON form, for `Accept: application/json` and `--once`.
    pub fn to_json(&self, redirect_uri: &str) -> Value {
        self.to_json_with(redirect_uri, None)
    }

    /// The JSON form, with the hint for a registered client.
    pub fn to_json_with(&self, redirect_uri: &str, registration: Option<&Registration>) -> Value {
        let (description, uri) = self.provider_detail();
        json!({
            "error": self.code(),
            "error_description": description,
            "error_uri": uri,
            "step": self.step(),
            "message": self.to_string(),
            "hint": self.hint_with(redirect_uri, registration),
        })
    }

    /// A refusal that sets aside a client saved by an earlier run.
    pub fn refuses_client(&self) -> bool {
        matches!(self, Self::Token(TokenError::Provider { error, .. })
            if error == "invalid_client" || error == "unauthorized_client")
    }
}

/// The token endpoint refused a client this tool registered: what was asked for and what
/// the registration response said, compared (RFC 7591 section 3.2.1: the response holds the
/// metadata as registered), then the likely causes in order.
fn registered_client_refused(error: &str, r: &Registration) -> String {
    let asked = r.asked.name();
    let how = match (&r.saved, r.reused) {
        (Some(path), true) => format!(
            "This client was registered by an earlier run (RFC 7591) and read from {}; CLIENT_ID \
             and CLIENT_SECRET were not set. ",
            path.display()
        ),
        _ => "This client was registered by this run (RFC 7591); CLIENT_ID and CLIENT_SECRET \
              were not set. "
            .to_owned(),
    };
    let compared = match r.returned.as_deref() {
        Some(returned) if returned == asked => format!(
            "The registration asked for token_endpoint_auth_method `{asked}` and the response \
             returned `{returned}`: the provider registered what was asked, and still refused \
             the client at the token endpoint ({error}). Most likely it keeps such clients \
             otherwise than its response says (a public client stored as confidential, say), \
             or it does not allow registered clients this grant: try --register-confidential, \
             or register a client by hand and set CLIENT_ID (and CLIENT_SECRET)."
        ),
        Some(returned) => format!(
            "The registration asked for token_endpoint_auth_method `{asked}` but the response \
             returned `{returned}`: the provider registered the client otherwise than asked, \
             and refused it at the token endpoint ({error}). Register a client by hand with the \
             method it expects and set CLIENT_ID (and CLIENT_SECRET), or try \
             --register-confidential."
        ),
        None => format!(
            "The registration asked for token_endpoint_auth_method `{asked}` and the response \
             named none (RFC 7591 section 2: `client_secret_basic` by default), and the token \
             endpoint refused the client ({error}): the provider may not have registered what \
             was asked; try --register-confidential, or register a client by hand and set \
             CLIENT_ID (and CLIENT_SECRET)."
        ),
    };
    let aside = if r.reused {
        " The saved registration is set aside (renamed to end in .refused): the next run \
         registers a new client."
    } else {
        ""
    };
    format!("{how}{compared}{aside}")
}

/// A failed sign-in as the browser (or a client asking for JSON) gets it.
#[derive(Debug)]
pub struct Failure {
    pub error: FlowError,
    pub format: Format,
    /// The redirect URI, for the hints that name it.
    pub redirect: String,
    /// How the client was registered, when it was (for the hint of a refused client).
    pub registration: Option<Registration>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        let e = &self.error;
        match self.format {
            Format::Json => HttpResponse::build(e.status())
                .json(e.to_json_with(&self.redirect, self.registration.as_ref())),
            Format::Html => {
                let (description, uri) = e.provider_detail();
                super::page(
                    e.status(),
                    &ErrorPage {
                        message: e.to_string(),
                        step: e.step().to_owned(),
                        code: e.code(),
                        description: description.map(str::to_owned),
                        uri: uri.map(str::to_owned),
                        hint: e.hint_with(&self.redirect, self.registration.as_ref()),
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ChainFailure, RunError};
    use crate::provider::{DiscoveryError, HttpError};

    #[test]
    fn provider_errors_keep_their_own_words_and_get_a_hint() {
        let e = FlowError::Authorization {
            error: "access_denied".into(),
            description: Some("End-User aborted interaction".into()),
            uri: None,
        };
        let j = e.to_json("http://localhost:3000/oauth_callback");
        assert_eq!(j["error"], "access_denied");
        assert_eq!(j["error_description"], "End-User aborted interaction");
        assert_eq!(j["step"], "authorization");
        assert!(j["hint"].as_str().unwrap().contains("declined"));

        let e = FlowError::Token(TokenError::Provider {
            status: 400,
            error: "invalid_request".into(),
            description: Some("redirect_uri did not match".into()),
            uri: None,
        });
        assert!(
            e.hint("http://localhost:3000/cb")
                .unwrap()
                .contains("http://localhost:3000/cb")
        );

        let e = FlowError::Token(TokenError::Provider {
            status: 401,
            error: "invalid_client".into(),
            description: None,
            uri: None,
        });
        assert!(e.hint("").unwrap().contains("CLIENT_SECRET"));
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn each_common_mistake_has_its_own_hint() {
        let authorization = |error: &str, description: Option<&str>| FlowError::Authorization {
            error: error.into(),
            description: description.map(str::to_owned),
            uri: None,
        };
        let hint = |e: FlowError| e.hint("http://localhost:3000/oauth_callback").unwrap();
        assert!(
            hint(authorization("invalid_redirect_uri", None))
                .contains("http://localhost:3000/oauth_callback")
        );
        assert!(
            hint(authorization(
                "invalid_request",
                Some("redirect_uri did not match any of the client's registered redirect_uris")
            ))
            .contains("REDIRECT_URI exactly")
        );
        assert!(hint(authorization("invalid_client", None)).contains("CLIENT_ID"));
        assert!(hint(authorization("invalid_scope", None)).contains("OAUTH_SCOPES"));
        assert!(hint(authorization("access_denied", None)).contains("declined"));
        let consent = hint(authorization("consent_required", None));
        assert!(
            consent.contains("approve") && consent.contains("prompt=none"),
            "{consent}"
        );
        assert!(hint(authorization("login_required", None)).contains("sign in"));
    }

    /// What a terminal would act on: control characters and bidi overrides.
    fn forges_log_text(s: &str) -> bool {
        s.chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
    }

    #[test]
    fn provider_strings_in_messages_are_escaped() {
        let hostile = "bad\u{1b}[2K\r\nINFO signed in\u{202e}";
        let messages = [
            FlowError::Authorization {
                error: hostile.into(),
                description: Some(hostile.into()),
                uri: None,
            }
            .to_string(),
            FlowError::BadQuery(hostile.into()).to_string(),
            FlowError::Token(TokenError::Provider {
                status: 400,
                error: hostile.into(),
                description: Some(hostile.into()),
                uri: None,
            })
            .to_string(),
            TokenError::Other {
                status: 500,
                detail: hostile.into(),
            }
            .to_string(),
            crate::provider::calls::CallError::Refused {
                error: hostile.into(),
                description: Some(hostile.into()),
            }
            .to_string(),
            crate::provider::calls::CallError::Status {
                status: 401,
                detail: Some(hostile.into()),
            }
            .to_string(),
            HttpError::Redirect {
                url: hostile.into(),
                status: 302,
                location: hostile.into(),
            }
            .to_string(),
            RunError::Discovery(DiscoveryError::NotFound {
                tried: hostile.into(),
            })
            .to_string(),
            RunError::Chain(Box::new(ChainFailure {
                error: crate::provider::resource::ChainError::BadMetadata {
                    url: hostile.into(),
                    problem: hostile.into(),
                },
                hops: Vec::new(),
                checks: Vec::new(),
            }))
            .to_string(),
        ];
        for m in messages {
            assert!(!forges_log_text(&m), "{m:?}");
            assert!(m.contains(r"bad\u{1b}[2K\r\nINFO"), "still readable: {m}");
        }
        // The JSON keeps the provider's own words, as sent.
        let e = FlowError::Authorization {
            error: "access_denied".into(),
            description: Some(hostile.into()),
            uri: None,
        };
        assert_eq!(e.to_json("")["error_description"], hostile);
    }
}
