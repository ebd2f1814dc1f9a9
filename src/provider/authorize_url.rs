//! The authorization request URL for `/login`, built from parts encoded once at start: the
//! endpoint with `response_type` and `client_id`, the redirect URI, the configured scopes and
//! the DPoP key's thumbprint do not change between sign-ins, so each `/login` only appends its
//! fresh `state`, PKCE challenge and nonce (and any parameter it overrides). The result is
//! the URL `Provider::authorize_url` (the oauth2 crate) writes, byte for byte: same
//! parameters, same order, same encoding (tested below).

use oauth2::{CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use url::form_urlencoded::{Serializer, byte_serialize};

use super::Provider;

/// The parts of every authorization request URL that do not change between sign-ins.
#[derive(Debug, Clone)]
pub struct AuthorizeUrl {
    /// The endpoint and its own query, `response_type`, `client_id`, and `&state=`.
    head: String,
    /// `&code_challenge_method=S256&redirect_uri=...`.
    after_challenge: String,
    /// The configured scopes, and their `&scope=...` (empty with no scope).
    scopes: Vec<Scope>,
    scope_param: String,
    /// `&dpop_jkt=...` with DPoP, else empty.
    dpop_param: String,
}

impl AuthorizeUrl {
    /// The parts for this provider, redirect URI and scopes; `None` when the endpoint has a
    /// fragment (RFC 6749 section 3.1 forbids one), for which the slow path stays.
    pub fn new(provider: &Provider, redirect: &RedirectUrl, scopes: &[Scope]) -> Option<Self> {
        let mut start = provider.endpoints.authorization.url().clone();
        if start.fragment().is_some() {
            return None;
        }
        start
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", provider.client_id())
            .append_pair("state", "");
        // The query of the pairs starts after the `&` (no second one before the first pair).
        let after_challenge = Serializer::for_suffix(String::from("&"), 1)
            .append_pair("code_challenge_method", "S256")
            .append_pair("redirect_uri", redirect.as_str())
            .finish();
        let dpop_param = provider.dpop().map_or(String::new(), |d| {
            let mut p = String::from("&dpop_jkt=");
            p.extend(byte_serialize(d.thumbprint().as_bytes()));
            p
        });
        Some(Self {
            head: start.into(),
            after_challenge,
            scope_param: scope_param(scopes),
            scopes: scopes.to_vec(),
            dpop_param,
        })
    }

    /// A new request's URL and its fresh `state`: `scopes` (the configured ones unless
    /// `/login?scope=` replaced them), the challenge, the nonce, and `extra` parameters last.
    pub fn build(
        &self,
        scopes: &[Scope],
        challenge: &PkceCodeChallenge,
        nonce: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (String, CsrfToken) {
        let state = CsrfToken::new_random();
        let mut url = String::with_capacity(self.head.len() + self.after_challenge.len() + 256);
        url.push_str(&self.head);
        url.extend(byte_serialize(state.secret().as_bytes()));
        url.push_str("&code_challenge=");
        url.extend(byte_serialize(challenge.as_str().as_bytes()));
        url.push_str(&self.after_challenge);
        if scopes == self.scopes.as_slice() {
            url.push_str(&self.scope_param);
        } else {
            url.push_str(&scope_param(scopes));
        }
        if let Some(nonce) = nonce {
            push_pair(&mut url, "nonce", nonce);
        }
        url.push_str(&self.dpop_param);
        for (k, v) in extra {
            push_pair(&mut url, k, v);
        }
        (url, state)
    }
}

fn scope_param(scopes: &[Scope]) -> String {
    let joined = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if joined.is_empty() {
        return String::new();
    }
    let mut p = String::from("&scope=");
    p.extend(byte_serialize(joined.as_bytes()));
    p
}

fn push_pair(url: &mut String, key: &str, value: &str) {
    url.push('&');
    url.extend(byte_serialize(key.as_bytes()));
    url.push('=');
    url.extend(byte_serialize(value.as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::config::Config;

    async fn provider(authorize: &str, dpop: bool) -> Provider {
        let cli = Cli {
            authorize_url: Some(authorize.into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("client id/é+&".into()),
            dpop,
            ..Cli::default()
        };
        Provider::discover(&Config::from_cli(&cli).unwrap())
            .await
            .unwrap()
    }

    /// The URL the oauth2 crate writes for the same request, with this request's state.
    fn slow(
        provider: &Provider,
        redirect: &RedirectUrl,
        scopes: &[Scope],
        challenge: PkceCodeChallenge,
        nonce: Option<&str>,
        extra: &[(&str, &str)],
        state: &str,
    ) -> String {
        let (url, csrf) = provider.authorize_url(redirect, scopes, challenge, nonce, extra);
        url.as_str().replace(csrf.secret(), state)
    }

    #[tokio::test]
    async fn the_same_url_as_the_oauth2_crate_writes() {
        let redirect =
            RedirectUrl::new("http://localhost:3000/oauth_callback?x=1 2".into()).unwrap();
        let configured: Vec<Scope> = ["openid", "profile", "email"]
            .map(|s| Scope::new(s.into()))
            .to_vec();
        let other = [Scope::new("read:me".into()), Scope::new("wr&te".into())];
        for (endpoint, dpop) in [
            ("https://idp.example/authorize", false),
            ("https://idp.example/authorize?tenant=a%20b&x=", true),
            ("https://idp.example/authorize?", false),
            ("https://idp.example/o/authorize/", true),
        ] {
            let p = provider(endpoint, dpop).await;
            for scopes in [&configured[..], &other[..], &[][..]] {
                for nonce in [None, Some("n0nce-_")] {
                    for extra in [
                        &[][..],
                        &[("prompt", "login"), ("login_hint", "a b+c@d.example")][..],
                    ] {
                        let fast = AuthorizeUrl::new(&p, &redirect, &configured).unwrap();
                        let (verifier_challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                        let (url, state) = fast.build(scopes, &verifier_challenge, nonce, extra);
                        let again = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
                        let expected =
                            slow(&p, &redirect, scopes, again, nonce, extra, state.secret());
                        assert_eq!(url, expected, "{endpoint} {scopes:?} {nonce:?} {extra:?}");
                        assert_eq!(url::Url::parse(&url).unwrap().as_str(), url);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn an_endpoint_with_a_fragment_keeps_the_slow_path() {
        let p = provider("https://idp.example/authorize#frag", false).await;
        let redirect = RedirectUrl::new("http://localhost:3000/cb".into()).unwrap();
        assert!(AuthorizeUrl::new(&p, &redirect, &[]).is_none());
    }
}
