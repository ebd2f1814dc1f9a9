//! OAUTH_CLIENT_METADATA_URL: this app's Client ID Metadata Document, hosted by the user
//! (draft-ietf-oauth-client-id-metadata-document). Its URL is the `client_id` at an
//! authorization server that advertises `client_id_metadata_document_supported`.

use oauth2::RedirectUrl;
use serde_json::{Value, json};
use url::Url;

use super::error::ConfigError;

/// The URL of the Client ID Metadata Document, checked against the draft's section 3 rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadataUrl(Url);

impl ClientMetadataUrl {
    /// Section 3: https, a path other than `/`, no dot segments, no fragment, no user or
    /// password (a query is allowed but discouraged).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let err = |problem: &str| ConfigError::ClientMetadataUrl {
            value: raw.to_owned(),
            problem: problem.to_owned(),
        };
        let url = Url::parse(raw).map_err(|e| err(&e.to_string()))?;
        if url.scheme() != "https" {
            return Err(err("the URL must be https"));
        }
        if url.fragment().is_some() {
            return Err(err("the URL must not have a #fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("the URL must not carry a user name or password"));
        }
        if url.path() == "/" || url.path().is_empty() {
            return Err(err(
                "the URL needs a path to the document, e.g. https://example.com/oauth-client.json",
            ));
        }
        // The url crate resolves `.` and `..` while parsing: compare with what was typed.
        let typed_path = raw
            .split_once("://")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("");
        let typed_path = typed_path.split(['?', '#']).next().unwrap_or("");
        if typed_path.split('/').any(|s| s == "." || s == "..") {
            return Err(err("the path must not contain . or .. segments"));
        }
        Ok(Self(url))
    }

    /// The URL, exactly as it goes in `client_id` (and in the document's `client_id`).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The document to host at this URL (section 4.1): a public client (no secret-based
    /// authentication is allowed) with this app's redirect URI.
    pub fn document(&self, redirect: &RedirectUrl) -> Value {
        let loopback = crate::oauth::is_loopback_host(redirect.url());
        json!({
            "client_id": self.as_str(),
            "client_name": "oauth-test-client",
            "redirect_uris": [redirect.as_str()],
            // OpenID Connect Registration 1.0 section 2: loopback redirects are native apps.
            "application_type": if loopback { "native" } else { "web" },
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_follows_the_drafts_rules() {
        let ok = ClientMetadataUrl::parse("https://app.example.com/oauth/client.json").unwrap();
        assert_eq!(ok.as_str(), "https://app.example.com/oauth/client.json");
        for bad in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://app.example.com/client.json#x",
            "https://user:pw@app.example.com/client.json",
            "https://app.example.com/a/../client.json",
            "https://app.example.com/./client.json",
            "not a url",
        ] {
            let e = ClientMetadataUrl::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("OAUTH_CLIENT_METADATA_URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_document_names_the_url_and_the_redirect_uri() {
        let url = ClientMetadataUrl::parse("https://app.example.com/client.json").unwrap();
        let redirect = RedirectUrl::new("http://localhost:3000/oauth_callback".into()).unwrap();
        let doc = url.document(&redirect);
        assert_eq!(doc["client_id"], "https://app.example.com/client.json");
        assert_eq!(
            doc["redirect_uris"],
            json!(["http://localhost:3000/oauth_callback"])
        );
        assert_eq!(doc["token_endpoint_auth_method"], "none");
        assert_eq!(
            doc["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(doc["response_types"], json!(["code"]));
        assert!(doc.get("client_secret").is_none());
    }
}
