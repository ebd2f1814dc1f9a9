//! What the provider advertises and what its token response carried: the PKCE `plain`
//! method, the ID token's algorithm, `Cache-Control: no-store`.

use base64::Engine as _;
use oauth2::PkceCodeChallenge;
use serde_json::Value;

use super::authorize::{Reaction, react};
use crate::oauth::Check;
use crate::redact::untrusted;
use crate::state::{AppState, Redeemed};

const PLAIN: &str = "audit.pkce_plain";
const PLAIN_SOURCE: &str = "RFC 9700 §2.1.1";

/// `code_challenge_method=plain`: advertised is a warning; not advertised, an authorization
/// request using it must be refused before the sign-in.
pub async fn pkce_plain(state: &AppState) -> Check {
    let provider = &state.provider;
    if let Some(methods) = &provider.code_challenge_methods
        && methods.iter().any(|m| m == "plain")
    {
        return Check::warn(
            PLAIN,
            "code_challenge_methods_supported lists `plain`: an intercepted authorization \
             request gives the verifier away; offer S256 only",
        )
        .source(PLAIN_SOURCE);
    }
    if provider.require_par {
        return Check::not_run(
            PLAIN,
            "the provider takes pushed authorization requests only, which this probe does not send",
        )
        .source(PLAIN_SOURCE);
    }
    // A plain challenge is the verifier itself: any 43+ characters do.
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    let url = provider.probe_authorize_url(
        &state.redirect,
        &state.scopes,
        None,
        &[
            ("code_challenge", verifier.secret()),
            ("code_challenge_method", "plain"),
        ],
    );
    let check = match react(state, &url, state.redirect.url()).await {
        Reaction::ToRedirectUri { error: Some(error) } => Check::pass(
            PLAIN,
            format!(
                "not advertised, and an authorization request with it is refused ({})",
                untrusted(&error)
            ),
        ),
        Reaction::ErrorPage(status) => Check::pass(
            PLAIN,
            format!(
                "not advertised, and an authorization request with it gets an error page (HTTP {status})"
            ),
        ),
        Reaction::ToRedirectUri { error: None } => Check::warn(
            PLAIN,
            "not advertised, but an authorization request with it is answered at the redirect \
             URI without an error; refuse `plain`",
        ),
        Reaction::GoesOn(how) => Check::warn(
            PLAIN,
            format!(
                "not advertised, but an authorization request with it is accepted ({how}); \
                 refuse `plain`"
            ),
        ),
        Reaction::Unreachable(e) => {
            Check::not_run(PLAIN, format!("the authorization request failed: {e}"))
        }
    };
    check.source(PLAIN_SOURCE)
}

const ALG: &str = "audit.id_token_alg";
const ALG_SOURCE: &str = "OIDC Core §10.1";

/// The ID token's `alg`: asymmetric passes; HS256 (keyed with the client secret, which the
/// provider also knows and stores) is a warning.
pub fn id_token_alg(state: &AppState) -> Check {
    let Some(session) = state.session_tokens() else {
        return Check::not_run(ALG, "no sign-in").source(ALG_SOURCE);
    };
    let Some(Value::String(id_token)) = session.token.get("id_token") else {
        return Check::not_run(
            ALG,
            "the token response has no ID token (scope openid not asked or not granted)",
        )
        .source(ALG_SOURCE);
    };
    let alg = id_token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned));
    let check = match alg.as_deref() {
        None => Check::fail(ALG, "the ID token's header has no readable `alg`"),
        Some(alg @ ("HS256" | "HS384" | "HS512")) => Check::warn(
            ALG,
            format!(
                "{alg}: signed with the client secret, so anyone holding the secret can mint ID \
                 tokens; prefer RS256 or ES256"
            ),
        ),
        Some("none") => Check::fail(ALG, "`none`: the ID token is not signed"),
        Some(alg) => Check::pass(ALG, format!("{}: asymmetric", untrusted(alg))),
    };
    check.source(ALG_SOURCE)
}

const NO_STORE: &str = "audit.token_no_store";
const NO_STORE_SOURCE: &str = "RFC 6749 §5.1";

/// The token response carried `Cache-Control: no-store`.
pub fn no_store(redeemed: Option<&Redeemed>) -> Check {
    let Some(headers) = redeemed.and_then(|r| r.response_headers.as_ref()) else {
        return Check::not_run(NO_STORE, "the token response's headers were not recorded")
            .source(NO_STORE_SOURCE);
    };
    let cache_control: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| v.as_str())
        .collect();
    let check = if cache_control.iter().any(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
    }) {
        Check::pass(
            NO_STORE,
            format!("Cache-Control: {}", cache_control.join(", ")),
        )
    } else if cache_control.is_empty() {
        Check::fail(
            NO_STORE,
            "the token response has no Cache-Control header: a cache may keep the tokens",
        )
    } else {
        Check::fail(
            NO_STORE,
            format!(
                "Cache-Control: {} (no `no-store`): a cache may keep the tokens",
                untrusted(&cache_control.join(", "))
            ),
        )
    };
    check.source(NO_STORE_SOURCE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::Verdict;
    use oauth2::{AuthorizationCode, PkceCodeVerifier};

    fn with_headers(headers: &[(&str, &str)]) -> Redeemed {
        Redeemed {
            code: AuthorizationCode::new("c".into()),
            verifier: PkceCodeVerifier::new("v".into()),
            response_headers: Some(
                headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn no_store_is_read_among_other_directives_and_its_absence_fails() {
        let pass = no_store(Some(&with_headers(&[(
            "cache-control",
            "private, No-Store",
        )])));
        assert_eq!(pass.result, Verdict::Pass, "{pass:?}");
        assert_eq!(pass.source, Some(NO_STORE_SOURCE));
        let fail = no_store(Some(&with_headers(&[("cache-control", "max-age=60")])));
        assert_eq!(fail.result, Verdict::Fail);
        let fail = no_store(Some(&with_headers(&[("content-type", "application/json")])));
        assert_eq!(fail.result, Verdict::Fail);
        assert!(fail.detail.contains("no Cache-Control"));
        assert_eq!(no_store(None).result, Verdict::NotRun);
        // The kept code never shows in Debug.
        assert_eq!(format!("{:?}", with_headers(&[])), "Redeemed([redacted])");
    }
}
