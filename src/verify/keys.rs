//! The signing keys a signature check needs: the key source this layer declares (the
//! provider's JWKS implements it), and which keys could have made a signature, with the set
//! fetched again once when none fits (key rotation).

use std::future::Future;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};

/// Where signing keys come from.
pub trait KeySource {
    /// The keys; `refetch` asks the provider again (key rotation).
    fn keys(&self, refetch: bool) -> impl Future<Output = Result<Vec<Jwk>, String>> + Send;
}

/// The keys that could have made a signature.
pub struct Candidates {
    pub keys: Vec<Jwk>,
    /// The set was fetched again to find them (none fitted the kept one).
    pub refetched: bool,
}

/// The keys that fit `alg` and, when the token names one, its `kid`: from the keys at hand,
/// else from the set fetched again. Empty when none fits even then.
pub async fn candidates<K: KeySource>(
    source: &K,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<Candidates, String> {
    let keys = select(&source.keys(false).await?, kid, alg);
    if !keys.is_empty() {
        return Ok(Candidates {
            keys,
            refetched: false,
        });
    }
    Ok(Candidates {
        keys: select(&source.keys(true).await?, kid, alg),
        refetched: true,
    })
}

fn select(keys: &[Jwk], kid: Option<&str>, alg: Algorithm) -> Vec<Jwk> {
    keys.iter()
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .filter(|k| fits(k, alg))
        .cloned()
        .collect()
}

fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use Algorithm::*;
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), RS256 | RS384 | RS512 | PS256 | PS384 | PS512) => true,
        (AlgorithmParameters::EllipticCurve(p), ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), EdDSA) => p.curve == EllipticCurve::Ed25519,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source whose set changes on refetch, counting the fetches.
    struct Rotating(std::sync::Mutex<Vec<bool>>);

    impl KeySource for Rotating {
        async fn keys(&self, refetch: bool) -> Result<Vec<Jwk>, String> {
            crate::sync::lock(&self.0).push(refetch);
            let kid = if refetch { "new" } else { "old" };
            let key = serde_json::json!({"kty":"RSA","kid":kid,"use":"sig","n":"sXch","e":"AQAB"});
            Ok(vec![serde_json::from_value(key).unwrap()])
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_fetches_the_set_once_more() {
        let source = Rotating(Default::default());
        let found = candidates(&source, Some("old"), Algorithm::RS256)
            .await
            .unwrap();
        assert_eq!((found.keys.len(), found.refetched), (1, false));
        let found = candidates(&source, Some("new"), Algorithm::RS256)
            .await
            .unwrap();
        assert_eq!((found.keys.len(), found.refetched), (1, true));
        let found = candidates(&source, Some("gone"), Algorithm::RS256)
            .await
            .unwrap();
        assert!(found.keys.is_empty() && found.refetched);
        // An RSA key never fits an EC algorithm, whatever its kid.
        let found = candidates(&source, None, Algorithm::ES256).await.unwrap();
        assert!(found.keys.is_empty());
        assert_eq!(
            *crate::sync::lock(&source.0),
            [false, false, true, false, true, false, true]
        );
    }
}
