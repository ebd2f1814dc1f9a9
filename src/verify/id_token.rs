//! ID token validation, OpenID Connect Core 3.1.3.7, one check per rule. The signature is
//! verified by `jsonwebtoken` (on ring, the crypto rustls already uses); the claim rules are
//! plain comparisons, each reported on its own so a person sees exactly which one broke.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::keys::{self, KeySource};
use crate::oauth::{Check, Verdict};

mod times;

pub use times::SKEW_SECS;
use times::{auth_time_check, exp_check, iat_check, nbf_check};

/// What the ID token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    /// The nonce sent in the authorization request; `None` after a refresh, where the ID
    /// token need not carry one (OpenID Connect Core 12.2).
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    /// `id_token_signing_alg_values_supported` from discovery, when advertised.
    pub signing_algs: Option<&'a [String]>,
    /// After a refresh: the `sub` of the original ID token (Core 12.2).
    pub sub: Option<&'a str>,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

pub struct Outcome {
    pub claims: Option<Map<String, Value>>,
    pub checks: Vec<Check>,
    /// Set only when every check passed.
    pub valid_sub: Option<String>,
}

/// A compact JWS split into its parts, header and payload decoded.
#[derive(Debug)]
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl Jws {
    /// By hand, not `jsonwebtoken::decode_header`: that one refuses `alg: none` and any alg
    /// it does not know, which the signature check must name, and returns no claims.
    pub fn parse(token: &str) -> Result<Self, String> {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(format!(
                "not a compact JWS: {} parts instead of 3",
                parts.len()
            ));
        }
        let decode = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .or_else(|_| URL_SAFE.decode(part))
                .map_err(|_| format!("the {what} is not base64url"))?;
            serde_json::from_slice(&bytes).map_err(|_| format!("the {what} is not a JSON object"))
        };
        Ok(Self {
            header: decode(parts[0], "header")?,
            claims: decode(parts[1], "payload")?,
        })
    }

    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// All the ID token checks.
pub async fn verify<K: KeySource>(token: &str, expected: &Expected<'_>, keys: &K) -> Outcome {
    let jws = match Jws::parse(token) {
        Ok(jws) => jws,
        Err(e) => {
            return Outcome {
                claims: None,
                checks: vec![Check::fail("id_token.format", e)],
                valid_sub: None,
            };
        }
    };
    let signature = signature("id_token.signature", token, &jws, expected, keys).await;
    let signed = signature.result == Verdict::Pass;
    let claims = claim_checks(&jws, expected);
    let mut checks = vec![signature];
    // Core 3.1.3.7 step 6 comes first: claims of a token that fails it are anyone's words.
    if signed {
        checks.extend(claims);
    } else {
        checks.extend(claims.into_iter().map(Check::unverified));
    }
    let all_pass = checks
        .iter()
        .all(|c| matches!(c.result, Verdict::Pass | Verdict::Warn));
    let valid_sub = all_pass
        .then(|| {
            jws.claims
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten();
    Outcome {
        claims: Some(jws.claims),
        checks,
        valid_sub,
    }
}

/// The signature check of Core 3.1.3.7 steps 6-8: an expected `alg`, never `none`; HMAC
/// only with the client secret; asymmetric keys from the JWKS by `kid`, refetched once when
/// no key matches (rotation); without `kid`, every key that fits the `alg` is tried.
pub async fn signature<K: KeySource>(
    name: &str,
    token: &str,
    jws: &Jws,
    expected: &Expected<'_>,
    keys: &K,
) -> Check {
    let alg = match acceptable_alg(jws.alg(), expected.signing_algs) {
        Ok(alg) => alg,
        Err(why) => return Check::fail(name, why),
    };
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return mac_signature(name, token, jws.alg(), alg, expected.client_secret);
    }
    key_signature(name, token, jws, alg, keys).await
}

/// Steps 6-7: the token's `alg`, when it is one this client verifies and the provider says
/// it signs with.
fn acceptable_alg(alg_name: &str, supported: Option<&[String]>) -> Result<Algorithm, String> {
    if alg_name.eq_ignore_ascii_case("none") || alg_name.is_empty() {
        return Err("alg none: an unsigned token is never accepted (Core 3.1.3.7 step 7)".into());
    }
    let alg: Algorithm = alg_name
        .parse()
        .map_err(|_| format!("alg {alg_name:?} is not one this client verifies"))?;
    if let Some(algs) = supported
        && !algs.iter().any(|a| a == alg_name)
    {
        return Err(format!(
            "alg {alg_name} is not in the provider's id_token_signing_alg_values_supported {algs:?}"
        ));
    }
    Ok(alg)
}

/// Core 10.1: the MAC key is the client secret, never a key from the JWKS.
fn mac_signature(
    name: &str,
    token: &str,
    alg_name: &str,
    alg: Algorithm,
    client_secret: Option<&str>,
) -> Check {
    let Some(secret) = client_secret else {
        return Check::fail(
            name,
            format!("{alg_name} needs the client secret as key, and this client has none"),
        );
    };
    match check_with(token, alg, &DecodingKey::from_secret(secret.as_bytes())) {
        true => Check::pass(name, format!("{alg_name}, keyed with the client secret")),
        false => Check::fail(
            name,
            format!("{alg_name} MAC does not verify with the client secret"),
        ),
    }
}

/// Step 8 for asymmetric algorithms: each key that could have signed is tried.
async fn key_signature<K: KeySource>(
    name: &str,
    token: &str,
    jws: &Jws,
    alg: Algorithm,
    keys: &K,
) -> Check {
    let alg_name = jws.alg();
    let candidates = match keys::candidates(keys, jws.kid(), alg).await {
        Ok(c) => c,
        Err(e) => return Check::fail(name, format!("the provider's keys could not be read: {e}")),
    };
    let kid = jws
        .kid()
        .map_or("no kid".to_owned(), |k| format!("kid {k:?}"));
    if candidates.keys.is_empty() {
        return Check::fail(
            name,
            format!(
                "no key in the provider's JWKS fits {alg_name} and {kid}, even after fetching it again"
            ),
        );
    }
    let tried = candidates.keys.len();
    let verified_by = candidates
        .keys
        .iter()
        .find(|jwk| DecodingKey::from_jwk(jwk).is_ok_and(|key| check_with(token, alg, &key)));
    let Some(jwk) = verified_by else {
        return Check::fail(
            name,
            format!(
                "{alg_name} with {kid}: the signature does not verify with {tried} candidate key(s)"
            ),
        );
    };
    let after = if candidates.refetched {
        ", found after fetching the JWKS again (key rotation)"
    } else {
        ""
    };
    let which = jwk
        .common
        .key_id
        .as_deref()
        .map_or(String::new(), |k| format!(" key {k:?}"));
    Check::pass(
        name,
        format!("{alg_name} with {kid}, verified by{which}{after}"),
    )
}

fn check_with(token: &str, alg: Algorithm, key: &DecodingKey) -> bool {
    let mut validation = Validation::new(alg);
    // Only the signature here: every claim has its own check below.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, key, &validation).is_ok()
}

/// The claim rules (Core 3.1.3.7 steps 2-5, 9-11, 3.1.3.8; RFC 7519 4.1.5), one row each, in
/// this order; pure (fuzzed: `fuzz/fuzz_targets/id_token_claims.rs`).
pub fn claim_checks(jws: &Jws, expected: &Expected<'_>) -> Vec<Check> {
    let claims = &jws.claims;
    [
        Some(iss_check(claims, expected.issuer)),
        Some(aud_check(claims, expected.client_id)),
        azp_check(claims, expected.client_id),
        Some(sub_check(claims, expected.sub)),
        Some(exp_check(claims, expected.now)),
        Some(iat_check(claims, expected.now)),
        nbf_check(claims, expected.now),
        auth_time_check(claims, expected.now),
        nonce_check(claims, expected.nonce),
        at_hash_check(claims, jws.alg(), expected.access_token),
    ]
    .into_iter()
    .flatten()
    .collect()
}

type Claims = Map<String, Value>;

fn str_claim<'a>(claims: &'a Claims, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// Step 2.
fn iss_check(claims: &Claims, issuer: &str) -> Check {
    match str_claim(claims, "iss") {
        Some(iss) if iss == issuer => {
            Check::pass("id_token.iss", format!("{iss} (Core 3.1.3.7 step 2)"))
        }
        Some(iss) => Check::fail(
            "id_token.iss",
            format!("{iss:?} is not the issuer {issuer:?}"),
        ),
        None => Check::fail("id_token.iss", "missing"),
    }
}

/// Steps 3-4.
fn aud_check(claims: &Claims, client_id: &str) -> Check {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audiences.is_empty() {
        Check::fail("id_token.aud", "missing: the ID token names no audience")
    } else if !audiences.contains(&client_id) {
        Check::fail(
            "id_token.aud",
            format!("{audiences:?} does not contain the client ID {client_id:?}"),
        )
    } else if audiences.len() > 1 && str_claim(claims, "azp").is_none() {
        Check::warn(
            "id_token.aud",
            "several audiences and no azp (Core 3.1.3.7 step 4 says azp SHOULD be present)",
        )
    } else {
        Check::pass(
            "id_token.aud",
            format!("contains the client ID {client_id:?} (step 3)"),
        )
    }
}

/// Step 5, when there is an `azp`.
fn azp_check(claims: &Claims, client_id: &str) -> Option<Check> {
    let azp = claims.get("azp")?;
    Some(match azp.as_str() {
        Some(a) if a == client_id => Check::pass("id_token.azp", "equals the client ID (step 5)"),
        _ => Check::fail(
            "id_token.azp",
            format!("{azp} is not the client ID {client_id:?}"),
        ),
    })
}

/// Core 2; after a refresh, the original `sub` (Core 12.2).
fn sub_check(claims: &Claims, original: Option<&str>) -> Check {
    match (str_claim(claims, "sub"), original) {
        (Some(s), Some(original)) if s != original => Check::fail(
            "id_token.sub",
            format!("{s:?} differs from the original ID token's {original:?} (Core 12.2)"),
        ),
        (Some(s), _) if !s.is_empty() => Check::pass("id_token.sub", format!("{s:?}")),
        _ => Check::fail(
            "id_token.sub",
            "missing: every ID token names its subject (Core 2)",
        ),
    }
}

/// Step 11, when a nonce was sent.
fn nonce_check(claims: &Claims, sent: Option<&str>) -> Option<Check> {
    Some(match (sent?, str_claim(claims, "nonce")) {
        (sent, Some(got)) if sent == got => {
            Check::pass("id_token.nonce", "equals the nonce sent (step 11)")
        }
        (_, Some(_)) => Check::fail(
            "id_token.nonce",
            "differs from the nonce sent: a replayed or injected ID token",
        ),
        (_, None) => Check::fail(
            "id_token.nonce",
            "missing, though the authorization request sent one",
        ),
    })
}

/// Core 3.1.3.8, when there is an `at_hash`.
fn at_hash_check(claims: &Claims, alg: &str, access_token: Option<&str>) -> Option<Check> {
    let at_hash = str_claim(claims, "at_hash")?;
    let Some(token) = access_token else {
        return Some(Check::warn(
            "id_token.at_hash",
            "present, but no access token came with it",
        ));
    };
    Some(match token_hash(alg, token) {
        Some(h) if h == at_hash => Check::pass(
            "id_token.at_hash",
            "matches the access token (Core 3.1.3.8)",
        ),
        Some(_) => Check::fail(
            "id_token.at_hash",
            "does not match the access token (Core 3.1.3.8)",
        ),
        None => Check::warn(
            "id_token.at_hash",
            format!("cannot be computed for alg {alg}"),
        ),
    })
}

/// Left half of the hash of the token's ASCII, base64url (Core 3.1.3.6); the hash follows
/// the JWS alg's, and SHA-512 for Ed25519.
pub fn token_hash(alg: &str, token: &str) -> Option<String> {
    let digest: Vec<u8> = match alg {
        "RS256" | "PS256" | "ES256" | "HS256" => Sha256::digest(token.as_bytes()).to_vec(),
        "RS384" | "PS384" | "ES384" | "HS384" => Sha384::digest(token.as_bytes()).to_vec(),
        "RS512" | "PS512" | "ES512" | "HS512" | "EdDSA" | "Ed25519" => {
            Sha512::digest(token.as_bytes()).to_vec()
        }
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OpenID Connect Core, appendix A.3 (response_type=id_token token): the access token
        // and the at_hash of its RS256 ID token.
        assert_eq!(
            token_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
    }

    #[test]
    fn malformed_tokens_are_named() {
        assert!(Jws::parse("a.b").unwrap_err().contains("3"));
        assert!(Jws::parse("!!.e30.x").unwrap_err().contains("header"));
        let jws = Jws::parse("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").unwrap();
        assert_eq!(jws.alg(), "none");
        assert_eq!(jws.claims["sub"], "x");
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://idp.example",
            client_id: "client",
            client_secret: None,
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: None,
            signing_algs: None,
            sub: None,
            now: 1_700_000_000,
        }
    }

    fn verdicts(claims: Value) -> Vec<(String, crate::oauth::Verdict)> {
        let jws = Jws {
            header: serde_json::from_value(serde_json::json!({"alg": "RS256"})).unwrap(),
            claims: serde_json::from_value(claims).unwrap(),
        };
        claim_checks(&jws, &expected())
            .into_iter()
            .map(|c| (c.check, c.result))
            .collect()
    }

    fn verdicts_at(claims: Value, expected: &Expected<'_>) -> Vec<(String, crate::oauth::Verdict)> {
        let jws = Jws {
            header: serde_json::from_value(serde_json::json!({"alg": "RS256"})).unwrap(),
            claims: serde_json::from_value(claims).unwrap(),
        };
        claim_checks(&jws, expected)
            .into_iter()
            .map(|c| (c.check, c.result))
            .collect()
    }

    #[test]
    fn huge_time_claims_never_overflow() {
        use super::Verdict::*;
        let good = serde_json::json!({
            "iss": "https://idp.example", "aud": "client", "sub": "u1",
            "exp": 1_700_000_600u64, "iat": 1_699_999_990u64, "nonce": "n-0S6_WzA2Mj"
        });
        let mut huge = good.clone();
        huge["exp"] = u64::MAX.into();
        assert!(verdicts(huge).contains(&("id_token.exp".into(), Pass)));
        let mut huge = good.clone();
        huge["iat"] = u64::MAX.into();
        assert!(verdicts(huge).contains(&("id_token.iat".into(), Fail)));
        let mut huge = good.clone();
        huge["nbf"] = u64::MAX.into();
        assert!(verdicts(huge).contains(&("id_token.nbf".into(), Fail)));
        let mut huge = good.clone();
        huge["auth_time"] = u64::MAX.into();
        verdicts(huge);
        // A clock at the end of time: every sum with the skew saturates.
        let end = Expected {
            now: u64::MAX,
            ..expected()
        };
        let mut old = good.clone();
        old["nbf"] = 0u64.into();
        let v = verdicts_at(old.clone(), &end);
        assert!(v.contains(&("id_token.exp".into(), Fail)));
        assert!(v.contains(&("id_token.iat".into(), Warn)));
        assert!(v.contains(&("id_token.nbf".into(), Pass)));
        old["exp"] = u64::MAX.into();
        old["iat"] = u64::MAX.into();
        old["nbf"] = u64::MAX.into();
        let v = verdicts_at(old, &end);
        assert!(v.contains(&("id_token.exp".into(), Pass)));
        assert!(v.contains(&("id_token.iat".into(), Pass)));
        assert!(v.contains(&("id_token.nbf".into(), Pass)));
        // Never a negative or fractional number read as a time.
        let mut odd = good;
        odd["exp"] = serde_json::json!(-1);
        odd["iat"] = serde_json::json!(1.7e300);
        let v = verdicts(odd);
        assert!(v.contains(&("id_token.exp".into(), Fail)));
        assert!(v.contains(&("id_token.iat".into(), Fail)));
    }

    struct NoKeys;

    impl KeySource for NoKeys {
        async fn keys(&self, _refetch: bool) -> Result<Vec<Jwk>, String> {
            Ok(Vec::new())
        }
    }

    fn hs256(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn claims_of_a_token_whose_signature_fails_are_never_passed() {
        use super::Verdict::*;
        let claims = serde_json::json!({
            "iss": "https://idp.example", "aud": "client", "sub": "u1",
            "exp": 1_700_000_600u64, "iat": 1_699_999_990u64, "nonce": "n-0S6_WzA2Mj",
            "azp": "client", "nbf": 1_699_999_990u64
        });
        let expected = Expected {
            client_secret: Some("the right secret"),
            ..expected()
        };
        let good = verify(&hs256(&claims, "the right secret"), &expected, &NoKeys).await;
        assert!(
            good.checks.iter().all(|c| c.result == Pass),
            "{:?}",
            good.checks
        );
        assert_eq!(good.valid_sub.as_deref(), Some("u1"));

        let forged = verify(&hs256(&claims, "a guessed secret"), &expected, &NoKeys).await;
        let (signature, rows) = forged.checks.split_first().unwrap();
        assert_eq!(
            (signature.check.as_str(), signature.result),
            ("id_token.signature", Fail)
        );
        assert_eq!(rows.len(), good.checks.len() - 1, "the same rows, marked");
        for row in rows {
            assert_eq!(row.result, Unverified, "{row:?}");
            assert!(row.detail.contains("unverified"), "{row:?}");
        }
        assert_eq!(forged.valid_sub, None);

        // A rule that fails stays a failure, also on an unverified token.
        let wrong_iss = serde_json::json!({"iss": "https://evil.example", "aud": "client", "sub": "u1",
            "exp": 1_700_000_600u64, "iat": 1_699_999_990u64, "nonce": "n-0S6_WzA2Mj"});
        let forged = verify(&hs256(&wrong_iss, "a guessed secret"), &expected, &NoKeys).await;
        let iss = forged
            .checks
            .iter()
            .find(|c| c.check == "id_token.iss")
            .unwrap();
        assert_eq!(iss.result, Fail);
        assert!(iss.detail.contains("unverified"), "{iss:?}");
    }

    #[test]
    fn claim_rules_each_report_on_their_own() {
        use super::Verdict::*;
        let good = serde_json::json!({
            "iss": "https://idp.example", "aud": "client", "sub": "u1",
            "exp": 1_700_000_600u64, "iat": 1_699_999_990u64, "nonce": "n-0S6_WzA2Mj"
        });
        assert!(verdicts(good.clone()).iter().all(|(_, v)| *v == Pass));
        let mut bad = good.clone();
        bad["aud"] = serde_json::json!(["other", "client"]);
        assert!(verdicts(bad).contains(&("id_token.aud".into(), Warn)));
        let mut bad = good.clone();
        bad["azp"] = "other".into();
        assert!(verdicts(bad).contains(&("id_token.azp".into(), Fail)));
        let mut bad = good.clone();
        bad["exp"] = 1_699_999_000u64.into();
        assert!(verdicts(bad).contains(&("id_token.exp".into(), Fail)));
        let mut skewed = good.clone();
        skewed["exp"] = (1_700_000_000u64 - SKEW_SECS + 1).into();
        assert!(
            verdicts(skewed).contains(&("id_token.exp".into(), Pass)),
            "within the clock skew"
        );
        let mut bad = good.clone();
        bad["iat"] = 1_700_001_000u64.into();
        assert!(verdicts(bad).contains(&("id_token.iat".into(), Fail)));
        let mut bad = good;
        bad.as_object_mut().unwrap().remove("nonce");
        assert!(verdicts(bad).contains(&("id_token.nonce".into(), Fail)));
    }
}
