//! OAUTH_CLIENT_KEY: the client's private key for `private_key_jwt` (RFC 7523 section 2.2,
//! OpenID Connect Core section 9), read and checked once at start. A PKCS#8 PEM file (RSA,
//! EC P-256 or Ed25519; a PKCS#1 `RSA PRIVATE KEY` too) or a private JWK as JSON. The `kid`
//! is the JWK's own, else the RFC 7638 thumbprint of the public key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

use super::error::ConfigError;

/// The key types `private_key_jwt` signs with here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    EcP256,
    Ed25519,
}

impl KeyType {
    /// The JWS algorithms this key can sign with, preferred first. `Ed25519` is the
    /// fully-specified name (RFC 9864) for what `EdDSA` means with this key.
    pub fn algs(self) -> &'static [&'static str] {
        match self {
            Self::Rsa => &["RS256", "PS256"],
            Self::EcP256 => &["ES256"],
            Self::Ed25519 => &["EdDSA", "Ed25519"],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::EcP256 => "EC P-256",
            Self::Ed25519 => "Ed25519",
        }
    }
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A checked private key. `Debug` shows the path, type and `kid`, never the key.
#[derive(Clone)]
pub struct ClientKey {
    pub path: PathBuf,
    pair: Arc<Pair>,
    kid: String,
    /// The public JWK's members (no `kid`, `alg`, `use`).
    public: serde_json::Map<String, Value>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("path", &self.path)
            .field("type", &self.key_type().name())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// OAUTH_ASSERTION_AUDIENCE: the `aud` of client assertions. The issuer identifier by
/// default (what OpenID Connect Core section 9 and RFC 7523 section 3 accept, and what
/// oidc-provider and most providers take); the token endpoint URL for a provider that
/// documents that instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAudience {
    Issuer,
    TokenEndpoint,
}

impl AssertionAudience {
    pub fn name(self) -> &'static str {
        match self {
            Self::Issuer => "issuer",
            Self::TokenEndpoint => "token_endpoint",
        }
    }

    pub(super) fn parse(word: Option<&str>) -> Result<Self, ConfigError> {
        match word {
            None | Some("issuer") => Ok(Self::Issuer),
            Some("token_endpoint") => Ok(Self::TokenEndpoint),
            Some(other) => Err(ConfigError::AssertionAudience(other.to_owned())),
        }
    }
}

/// Why the key cannot be used (never quoting the key).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyProblem(String);

fn problem(text: impl Into<String>) -> KeyProblem {
    KeyProblem(text.into())
}

/// Signing failed (ring refuses only on a broken random source or key).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the client assertion with OAUTH_CLIENT_KEY ({0})")]
pub struct SignError(&'static str);

impl ClientKey {
    pub(super) fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |p: KeyProblem| ConfigError::ClientKey {
            path: path.to_owned(),
            problem: p.0,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(problem(format!("cannot read it ({e})"))))?;
        let mut key = Self::parse(&text).map_err(err)?;
        key.path = path.to_owned();
        Ok(key)
    }

    /// A PEM private key, or a private JWK (JSON).
    pub fn parse(text: &str) -> Result<Self, KeyProblem> {
        let (pair, kid) = if text.trim_start().starts_with('{') {
            from_jwk(text)?
        } else {
            (from_pem(text)?, None)
        };
        let public = public_jwk(&pair);
        let kid = kid.unwrap_or_else(|| thumbprint(&public));
        Ok(Self {
            path: PathBuf::new(),
            pair: Arc::new(pair),
            kid,
            public,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn key_type(&self) -> KeyType {
        match *self.pair {
            Pair::Rsa(_) => KeyType::Rsa,
            Pair::Ec(_) => KeyType::EcP256,
            Pair::Ed(_) => KeyType::Ed25519,
        }
    }

    /// RFC 7638 thumbprint of the public key (base64url SHA-256).
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.public)
    }

    /// The public JWK set to register at the provider (RFC 7517 section 5).
    pub fn jwks(&self, alg: &str) -> Value {
        let mut jwk = self.public.clone();
        jwk.insert("kid".into(), self.kid.clone().into());
        jwk.insert("alg".into(), alg.into());
        jwk.insert("use".into(), "sig".into());
        json!({ "keys": [jwk] })
    }

    /// The JWS signature over `input` with `alg`, one of `key_type().algs()`.
    pub fn sign(&self, alg: &str, input: &[u8]) -> Result<Vec<u8>, SignError> {
        match (&*self.pair, alg) {
            (Pair::Rsa(pair), "RS256" | "PS256") => {
                let padding: &dyn ring::signature::RsaEncoding = if alg == "PS256" {
                    &RSA_PSS_SHA256
                } else {
                    &RSA_PKCS1_SHA256
                };
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &SystemRandom::new(), input, &mut signature)
                    .map_err(|_| SignError("RSA signing failed"))?;
                Ok(signature)
            }
            (Pair::Ec(pair), "ES256") => pair
                .sign(&SystemRandom::new(), input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError("ECDSA signing failed")),
            (Pair::Ed(pair), "EdDSA" | "Ed25519") => Ok(pair.sign(input).as_ref().to_vec()),
            _ => Err(SignError("the algorithm does not fit the key")),
        }
    }
}

/// The first `-----BEGIN ...-----` block: PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
fn from_pem(text: &str) -> Result<Pair, KeyProblem> {
    let (label, der) = pem_block(text)?;
    match label {
        "PRIVATE KEY" => from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
            .map(Pair::Rsa)
            .map_err(|e| problem(format!("not a usable RSA key ({e})"))),
        "ENCRYPTED PRIVATE KEY" => Err(problem(
            "the key is encrypted: decrypt it (openssl pkcs8 -in KEY -nocrypt -out KEY.pem)",
        )),
        "EC PRIVATE KEY" => Err(problem(
            "a SEC1 EC key: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem)",
        )),
        "PUBLIC KEY" | "CERTIFICATE" => Err(problem(format!(
            "it holds a {label}, not the private key: give the private key's file"
        ))),
        other => Err(problem(format!(
            "a PEM block \"{}\" is not a private key",
            crate::redact::untrusted(other)
        ))),
    }
}

fn pem_block(text: &str) -> Result<(&str, Vec<u8>), KeyProblem> {
    let none = || problem("no -----BEGIN PRIVATE KEY----- block: not a PEM file");
    let start = text.find("-----BEGIN ").ok_or_else(none)?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or_else(none)?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let end = body.find("-----END ").ok_or_else(none)?;
    let b64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if b64.contains(':') {
        return Err(problem(
            "the key is encrypted (Proc-Type header): decrypt it first",
        ));
    }
    let der = STANDARD
        .decode(b64)
        .map_err(|_| problem("the PEM block is not base64"))?;
    Ok((label, der))
}

fn from_pkcs8(der: &[u8]) -> Result<Pair, KeyProblem> {
    if let Ok(pair) = RsaKeyPair::from_pkcs8(der) {
        return Ok(Pair::Rsa(pair));
    }
    let rng = SystemRandom::new();
    if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng) {
        return Ok(Pair::Ec(pair));
    }
    if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok(Pair::Ed(pair));
    }
    Err(problem(
        "a PKCS#8 key, but not RSA (2048 bits or more), EC P-256 or Ed25519",
    ))
}

/// A private JWK (RFC 7517, RFC 7518 section 6, RFC 8037) and its `kid`.
fn from_jwk(text: &str) -> Result<(Pair, Option<String>), KeyProblem> {
    let jwk: Value = serde_json::from_str(text).map_err(|_| problem("not valid JSON"))?;
    // A JWK set with one key is what some tools write.
    let jwk = match jwk.get("keys").and_then(Value::as_array) {
        Some(keys) if keys.len() == 1 => keys[0].clone(),
        Some(_) => return Err(problem("a JWK set must hold exactly one key")),
        None => jwk,
    };
    let field = |name: &str| -> Result<Vec<u8>, KeyProblem> {
        let value = jwk.get(name).and_then(Value::as_str).ok_or_else(|| {
            problem(format!(
                "the JWK has no \"{name}\" (a private JWK is needed)"
            ))
        })?;
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| problem(format!("the JWK's \"{name}\" is not base64url")))
    };
    let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or_default();
    let rejected =
        |e: ring::error::KeyRejected| problem(format!("the JWK is not a usable key ({e})"));
    let pair = match (kty, crv) {
        ("EC", "P-256") => {
            let mut public = vec![4u8];
            public.extend(field("x")?);
            public.extend(field("y")?);
            EcdsaKeyPair::from_private_key_and_public_key(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &field("d")?,
                &public,
                &SystemRandom::new(),
            )
            .map(Pair::Ec)
            .map_err(rejected)?
        }
        ("OKP", "Ed25519") => Ed25519KeyPair::from_seed_and_public_key(&field("d")?, &field("x")?)
            .map(Pair::Ed)
            .map_err(rejected)?,
        ("RSA", _) => {
            let (n, e, d) = (field("n")?, field("e")?, field("d")?);
            let (p, q) = (field("p")?, field("q")?);
            let (dp, dq, qi) = (field("dp")?, field("dq")?, field("qi")?);
            RsaKeyPair::from_components(&ring::rsa::KeyPairComponents {
                public_key: ring::rsa::PublicKeyComponents { n: &n, e: &e },
                d: &d,
                p: &p,
                q: &q,
                dP: &dp,
                dQ: &dq,
                qInv: &qi,
            })
            .map(Pair::Rsa)
            .map_err(rejected)?
        }
        _ => {
            return Err(problem(
                "the JWK is not RSA, EC P-256 or OKP Ed25519 (kty, crv)",
            ));
        }
    };
    Ok((pair, kid))
}

/// The required public members (RFC 7638 section 3.2), in lexicographic order.
fn public_jwk(pair: &Pair) -> serde_json::Map<String, Value> {
    let b64 = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
    let value = match pair {
        Pair::Rsa(pair) => {
            let components: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
            json!({ "e": b64(&components.e), "kty": "RSA", "n": b64(&components.n) })
        }
        Pair::Ec(pair) => {
            // Uncompressed point: 0x04, x, y (32 bytes each).
            let point = pair.public_key().as_ref();
            json!({ "crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..65]) })
        }
        Pair::Ed(pair) => {
            json!({ "crv": "Ed25519", "kty": "OKP", "x": b64(pair.public_key().as_ref()) })
        }
    };
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// RFC 7638 section 3: SHA-256 over the required members, sorted, no whitespace (serde_json's
/// map is sorted and compact).
fn thumbprint(public: &serde_json::Map<String, Value>) -> String {
    let canonical = serde_json::to_string(public).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_of(der: &[u8], label: &str) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
    }

    #[test]
    fn each_key_type_parses_signs_and_has_a_thumbprint_kid() {
        let rng = SystemRandom::new();
        let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        // RSA keys come from node in the integration tests (ring cannot generate them).
        let pems = [
            (pem_of(ec.as_ref(), "PRIVATE KEY"), KeyType::EcP256),
            (pem_of(ed.as_ref(), "PRIVATE KEY"), KeyType::Ed25519),
        ];
        for (pem, key_type) in pems {
            let key = ClientKey::parse(&pem).unwrap();
            assert_eq!(key.key_type(), key_type);
            assert_eq!(key.kid(), key.thumbprint());
            assert_eq!(key.kid().len(), 43, "base64url of 32 bytes");
            let alg = key_type.algs()[0];
            assert!(!key.sign(alg, b"x").unwrap().is_empty());
            let jwks = key.jwks(alg);
            assert_eq!(jwks["keys"][0]["use"], "sig");
            assert_eq!(jwks["keys"][0]["alg"], alg);
            assert!(jwks["keys"][0].get("d").is_none(), "no private member");
            assert!(!format!("{key:?}").contains("BEGIN"));
        }
    }

    #[test]
    fn rfc_7638_example_thumbprint() {
        // RFC 7638 section 3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let public = json!({ "e": "AQAB", "kty": "RSA", "n": n });
        let Value::Object(map) = public else { panic!() };
        assert_eq!(
            thumbprint(&map),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_jwk_file_keeps_its_kid_and_bad_files_are_named() {
        let rng = SystemRandom::new();
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = ClientKey::parse(&pem_of(ed.as_ref(), "PRIVATE KEY")).unwrap();
        let Pair::Ed(pair) = &*key.pair else { panic!() };
        // Ed25519's PKCS#8 v2 from ring holds the seed at bytes 16..48.
        let seed = &ed.as_ref()[16..48];
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "my-key",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            "d": URL_SAFE_NO_PAD.encode(seed),
        });
        let from_jwk = ClientKey::parse(&jwk.to_string()).unwrap();
        assert_eq!(from_jwk.kid(), "my-key");
        assert_eq!(from_jwk.thumbprint(), key.thumbprint());

        for (text, says) in [
            ("hello", "not a PEM file"),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                "not the private key",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "PKCS#8",
            ),
            ("{\"kty\":\"EC\",\"crv\":\"P-256\"}", "\"x\""),
        ] {
            let e = ClientKey::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
