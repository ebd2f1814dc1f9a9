//! Checks of a DPoP sign-in (RFC 9449): the token type, the key the token is bound to, and
//! whether the API refuses the token without its proof.

use serde_json::{Map, Value};

use crate::oauth::Check;

/// Section 5: a DPoP-bound access token comes with `token_type` `DPoP`; `Bearer` means the
/// provider ignored the proof, and the token is as stealable as any bearer token.
pub fn token_type(token: &Map<String, Value>) -> Check {
    match token.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("dpop") => Check::pass(
            "token.token_type",
            format!("{t}: the access token is bound to this run's key (RFC 9449 section 5)"),
        ),
        Some(t) => Check::fail(
            "token.token_type",
            format!(
                "{t:?} although a DPoP proof was sent: the provider did not bind the token \
                 (RFC 9449 section 5); enable DPoP for this client at the provider"
            ),
        ),
        None => Check::fail(
            "token.token_type",
            "missing (RFC 6749 section 5.1 requires it; RFC 9449 section 5 wants DPoP)",
        ),
    }
}

/// Where the token's confirmation was read from.
pub enum Confirmation<'a> {
    /// A JWT access token's claims (RFC 9449 section 6.1).
    Jwt(&'a Map<String, Value>),
    /// An introspection answer (section 6.2).
    Introspection(&'a Value),
    /// Neither: an opaque token and no introspection (or it failed, said why).
    Unavailable(String),
}

/// `cnf.jkt` equals the key's RFC 7638 thumbprint.
pub fn binding(expected: &str, confirmation: Confirmation<'_>) -> Check {
    const NAME: &str = "dpop.cnf_jkt";
    let (source, cnf) = match confirmation {
        Confirmation::Jwt(claims) => ("the JWT access token", claims.get("cnf")),
        Confirmation::Introspection(body) => ("introspection", body.get("cnf")),
        Confirmation::Unavailable(why) => {
            return Check::warn(NAME, format!("not verified: the token is opaque and {why}"));
        }
    };
    match cnf.and_then(|c| c.get("jkt")).and_then(Value::as_str) {
        Some(jkt) if jkt == expected => Check::pass(
            NAME,
            format!("{source} says cnf.jkt {jkt}, this run's key (RFC 9449 section 6)"),
        ),
        Some(jkt) => Check::fail(
            NAME,
            format!(
                "{source} says cnf.jkt {jkt:?}, but this run's key is {expected}: the token is \
                 bound to another key"
            ),
        ),
        None => Check::fail(
            NAME,
            format!(
                "{source} has no cnf.jkt: the token is not bound to a key (RFC 9449 section 6)"
            ),
        ),
    }
}

/// Section 7.2: the API must refuse a DPoP-bound token sent as `Bearer` without a proof;
/// `status` is its answer (`None`: no answer).
pub fn bearer_refused(status: Option<u16>, error: Option<&str>) -> Check {
    const NAME: &str = "dpop.api_refuses_bearer";
    match status {
        Some(s) if (200..300).contains(&s) => Check::warn(
            NAME,
            format!(
                "the API answered HTTP {s} to the same token sent as Bearer without a proof: it \
                 does not check the binding, so a stolen token works there (RFC 9449 section 7.2)"
            ),
        ),
        Some(s) => Check::pass(
            NAME,
            format!("the API refused the same token sent as Bearer (HTTP {s})"),
        ),
        None => Check::warn(
            NAME,
            format!(
                "not verified: the call with the token as Bearer failed: {}",
                error.unwrap_or("no answer")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::Verdict;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_token_type_must_be_dpop_in_any_case() {
        let ok = token_type(&map(json!({"token_type": "dpop"})));
        assert_eq!(ok.result, Verdict::Pass);
        let bearer = token_type(&map(json!({"token_type": "Bearer"})));
        assert_eq!(bearer.result, Verdict::Fail);
        assert!(bearer.detail.contains("Bearer"), "{}", bearer.detail);
        assert_eq!(token_type(&Map::new()).result, Verdict::Fail);
    }

    #[test]
    fn the_binding_is_read_from_the_jwt_or_introspection() {
        let claims = map(json!({"cnf": {"jkt": "abc"}}));
        assert_eq!(
            binding("abc", Confirmation::Jwt(&claims)).result,
            Verdict::Pass
        );
        let other = json!({"active": true, "cnf": {"jkt": "xyz"}});
        let wrong = binding("abc", Confirmation::Introspection(&other));
        assert_eq!(wrong.result, Verdict::Fail);
        assert!(wrong.detail.contains("introspection"), "{}", wrong.detail);
        let none = json!({"active": true});
        assert_eq!(
            binding("abc", Confirmation::Introspection(&none)).result,
            Verdict::Fail
        );
        let unknown = binding("abc", Confirmation::Unavailable("x".into()));
        assert_eq!(unknown.result, Verdict::Warn);
        assert!(unknown.detail.starts_with("not verified"));
    }

    #[test]
    fn an_api_that_accepts_the_token_as_bearer_is_a_warning() {
        assert_eq!(bearer_refused(Some(200), None).result, Verdict::Warn);
        assert_eq!(bearer_refused(Some(401), None).result, Verdict::Pass);
        assert_eq!(bearer_refused(None, Some("timeout")).result, Verdict::Warn);
    }
}
