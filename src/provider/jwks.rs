//! The provider's signing keys (`jwks_uri`): verify's `KeySource`, fetched when first needed,
//! kept, and fetched again when verify finds no key that fits (rotation); the JWKS read
//! tolerantly, key by key.

use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::Provider;
use crate::redact::untrusted;
use crate::verify::keys::KeySource;

impl KeySource for Provider {
    async fn keys(&self, refetch: bool) -> Result<Vec<Jwk>, String> {
        let mut cache = self.jwks.lock().await;
        if let Some(keys) = cache.as_ref()
            && !refetch
        {
            return Ok(keys.clone());
        }
        let Some(url) = &self.endpoints.jwks else {
            return Err("the provider's metadata has no jwks_uri (set OAUTH_JWKS_URL)".into());
        };
        let response = self
            .http
            .get(url.as_str())
            .await
            .map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!("{url} answered HTTP {}", response.status));
        }
        let keys = parse_jwks(&response.body).map_err(|e| format!("{url}: {e}"))?;
        log::debug!("read {} signing key(s) from {}", keys.len(), untrusted(url));
        *cache = Some(keys.clone());
        Ok(keys)
    }
}

/// Each key on its own: one key of a type this client does not know (an encryption key,
/// a new curve) must not hide the others.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, String> {
    let set: Value = serde_json::from_slice(body).map_err(|_| "the JWKS is not JSON".to_owned())?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no \"keys\" array")?;
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_skipped_not_fatal() {
        let body = br#"{"keys":[
            {"kty":"oct","k":"c2VjcmV0"},
            {"kty":"weird"},
            {"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"sXch","e":"AQAB"}
        ]}"#;
        let keys = parse_jwks(body).unwrap();
        assert!(
            keys.iter()
                .any(|k| k.common.key_id.as_deref() == Some("r1"))
        );
        assert!(parse_jwks(b"{}").is_err());
        assert!(parse_jwks(b"nope").is_err());
    }
}
