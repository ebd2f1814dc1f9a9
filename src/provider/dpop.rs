//! DPoP (RFC 9449): one ES256 key per run, the proofs sent with the token requests and
//! with every call made with the access token, and the latest nonce each server gave.
//! A proof is a credential for a minute: it is never logged (exchanges mask it).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use url::Url;

use crate::sync::lock;

/// Why no proof could be made.
#[derive(Debug, thiserror::Error)]
pub enum DpopError {
    #[error("could not generate the DPoP key pair (ES256): {0}")]
    Key(String),
    #[error("could not sign a DPoP proof: {0}")]
    Sign(String),
}

/// This run's DPoP key and the nonces servers asked for.
pub struct Dpop {
    key: EcdsaKeyPair,
    /// The public key as a JWK (RFC 7518 section 6.2).
    jwk: Value,
    thumbprint: String,
    /// The latest `DPoP-Nonce` per origin (RFC 9449 sections 8 and 9).
    nonces: Mutex<HashMap<String, String>>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dpop")
            .field("jkt", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl Dpop {
    /// A fresh P-256 key pair, kept in memory only.
    pub fn generate() -> Result<Self, DpopError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| DpopError::Key(e.to_string()))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| DpopError::Key(e.to_string()))?;
        // An uncompressed point: 0x04, x (32 bytes), y (32 bytes).
        let point = key.public_key().as_ref();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        let thumbprint = thumbprint(&x, &y);
        Ok(Self {
            key,
            jwk: json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            thumbprint,
            nonces: Mutex::new(HashMap::new()),
            rng,
        })
    }

    /// The key's RFC 7638 thumbprint: `dpop_jkt` and the tokens' `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for one request (RFC 9449 section 4.2): `htu` without query and fragment,
    /// `ath` for calls made with an access token, the server's latest nonce when it gave one.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, DpopError> {
        let htu = htu(url);
        let mut jti = [0u8; 16];
        self.rng
            .fill(&mut jti)
            .map_err(|e| DpopError::Sign(e.to_string()))?;
        let mut claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "htm": method,
            "htu": htu,
            "iat": crate::oauth::time::now(),
        });
        if let Some(token) = access_token {
            claims["ath"] = Value::String(ath(token));
        }
        if let Some(nonce) = self.nonce_for(url) {
            claims["nonce"] = Value::String(nonce);
        }
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|e| DpopError::Sign(e.to_string()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// Keeps the nonce a server sent with any answer (RFC 9449 section 8.2: a server may
    /// give a new one at any time).
    pub fn remember_nonce(&self, url: &str, nonce: &str) {
        if let Some(origin) = origin(url) {
            lock(&self.nonces).insert(origin, nonce.to_owned());
        }
    }

    fn nonce_for(&self, url: &str) -> Option<String> {
        lock(&self.nonces).get(&origin(url)?).cloned()
    }
}

/// `base64url(SHA-256(access token))` (RFC 9449 section 4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        access_token.as_bytes(),
    ))
}

/// RFC 7638: the SHA-256 of the required members in lexicographic order, no spaces.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// The URL without query and fragment (RFC 9449 section 4.2, `htu`).
fn htu(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_owned(),
    }
}

fn origin(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Whether an answer asks for a nonce: `use_dpop_nonce` in a 400 JSON body from an
/// authorization server (section 8) or in a 401 `WWW-Authenticate: DPoP` challenge from a
/// resource server (section 9).
pub fn asks_for_nonce(status: u16, headers: &oauth2::http::HeaderMap, body: &[u8]) -> bool {
    match status {
        400 => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|b| b.get("error").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|e| e == "use_dpop_nonce"),
        401 => headers.get_all("www-authenticate").iter().any(|v| {
            let v = String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase();
            v.trim_start().starts_with("dpop") && v.contains("use_dpop_nonce")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_proof_is_an_es256_jwt_that_verifies_with_its_own_jwk() {
        let dpop = Dpop::generate().unwrap();
        let proof = dpop
            .proof("POST", "https://as.example/token?x=1#f", Some("tok"))
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        let claims = decode(parts[1]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["jwk"].get("d").is_none(), "public key only");
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://as.example/token");
        assert_eq!(claims["ath"], ath("tok"));
        assert!(claims.get("nonce").is_none());
        let jwk = &header["jwk"];
        let mut point = vec![4u8];
        for c in ["x", "y"] {
            point.extend(URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap());
        }
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            point,
        );
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        public.verify(input.as_bytes(), &signature).unwrap();
        let again = dpop
            .proof("POST", "https://as.example/token", None)
            .unwrap();
        assert_ne!(
            decode(again.split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
    }

    #[test]
    fn the_nonce_is_kept_per_origin() {
        let dpop = Dpop::generate().unwrap();
        dpop.remember_nonce("https://as.example/token", "n1");
        let claims = |url| {
            decode(
                dpop.proof("GET", url, None)
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
        };
        assert_eq!(claims("https://as.example/userinfo")["nonce"], "n1");
        assert!(claims("https://api.example/x").get("nonce").is_none());
    }

    #[test]
    fn the_thumbprint_follows_rfc_7638() {
        // The key of RFC 9449's examples (section 4.3) and its `jkt` (section 6.1).
        assert_eq!(
            thumbprint(
                "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
            ),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn a_nonce_challenge_is_recognised_from_either_server() {
        let mut headers = oauth2::http::HeaderMap::new();
        assert!(asks_for_nonce(
            400,
            &headers,
            br#"{"error":"use_dpop_nonce"}"#
        ));
        assert!(!asks_for_nonce(
            400,
            &headers,
            br#"{"error":"invalid_grant"}"#
        ));
        headers.insert(
            "www-authenticate",
            r#"DPoP error="use_dpop_nonce", algs="ES256""#.parse().unwrap(),
        );
        assert!(asks_for_nonce(401, &headers, b""));
        assert!(!asks_for_nonce(403, &headers, b""));
    }
}
