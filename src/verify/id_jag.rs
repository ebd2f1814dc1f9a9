//! The ID-JAG the IdP issued (draft-ietf-oauth-identity-assertion-authz-grant section 3),
//! read before it goes to the authorization server. Decoded, not verified: the IdP's keys
//! are the authorization server's business and may be unknown here, so each row says
//! "unverified"; a claim that is wrong here will be refused there, and this names it.

use serde_json::{Map, Value};

use super::id_token::Jws;
use crate::oauth::Check;
use crate::provider::token_exchange::ID_JAG_TYPE;

/// The JWT `typ` of an ID-JAG.
pub const ID_JAG_TYP: &str = "oauth-id-jag+jwt";

/// What the ID-JAG must say.
#[derive(Debug)]
pub struct Expected<'a> {
    /// The authorization server's issuer.
    pub audience: &'a str,
    /// CLIENT_ID at the authorization server.
    pub client_id: &'a str,
    /// The resource (RFC 8707) asked for.
    pub resource: &'a str,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// The checks, one row each, and the claims (unverified) for the report.
pub fn checks(
    assertion: &str,
    issued_token_type: Option<&str>,
    expected: &Expected<'_>,
) -> (Vec<Check>, Option<Map<String, Value>>) {
    let mut checks = vec![match issued_token_type {
        Some(t) if t == ID_JAG_TYPE => Check::pass("id_jag.issued_token_type", t),
        Some(t) => Check::fail(
            "id_jag.issued_token_type",
            format!(
                "{:?}, not {ID_JAG_TYPE} (RFC 8693 section 2.2.1)",
                crate::redact::untrusted(t).to_string()
            ),
        ),
        None => Check::fail(
            "id_jag.issued_token_type",
            "absent (RFC 8693 section 2.2.1 requires it)",
        ),
    }];
    let jws = match Jws::parse(assertion) {
        Ok(jws) => jws,
        Err(e) => {
            checks.push(Check::fail("id_jag.format", format!("{e}: not a JWT")));
            return (checks, None);
        }
    };
    let text =
        |map: &Map<String, Value>, k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    let shown = |v: Option<String>| match v {
        Some(v) => format!("{:?}", crate::redact::untrusted(v).to_string()),
        None => "absent".to_owned(),
    };
    let typ = text(&jws.header, "typ");
    checks.push(match typ.as_deref() {
        Some(t) if t.eq_ignore_ascii_case(ID_JAG_TYP) => {
            Check::pass("id_jag.typ", format!("{ID_JAG_TYP} (unverified)"))
        }
        _ => Check::fail(
            "id_jag.typ",
            format!(
                "{} in the header, not {ID_JAG_TYP} (unverified)",
                shown(typ)
            ),
        ),
    });
    let base = |s: &str| s.trim_end_matches('/').to_owned();
    let audiences: Vec<String> = match jws.claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    checks.push(
        if audiences.iter().any(|a| base(a) == base(expected.audience)) {
            Check::pass(
                "id_jag.aud",
                format!(
                    "the authorization server {} (unverified)",
                    expected.audience
                ),
            )
        } else {
            Check::fail(
                "id_jag.aud",
                format!(
                    "{}, not the authorization server {}: it will refuse the grant (unverified)",
                    shown((!audiences.is_empty()).then(|| audiences.join(", "))),
                    expected.audience
                ),
            )
        },
    );
    let client_id = text(&jws.claims, "client_id");
    checks.push(match client_id.as_deref() {
        Some(c) if c == expected.client_id => {
            Check::pass("id_jag.client_id", format!("CLIENT_ID {c} (unverified)"))
        }
        _ => Check::fail(
            "id_jag.client_id",
            format!(
                "{}, not CLIENT_ID {}: the IdP issued it for another client (unverified)",
                shown(client_id),
                expected.client_id
            ),
        ),
    });
    let resource = text(&jws.claims, "resource");
    checks.push(match resource.as_deref() {
        Some(r) if base(r) == base(expected.resource) => {
            Check::pass("id_jag.resource", format!("{r} (unverified)"))
        }
        _ => Check::fail(
            "id_jag.resource",
            format!(
                "{}, not the resource {} (unverified)",
                shown(resource),
                expected.resource
            ),
        ),
    });
    checks.push(match jws.claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if exp > expected.now => Check::pass(
            "id_jag.exp",
            format!("in {} s (unverified)", exp - expected.now),
        ),
        Some(exp) => Check::fail(
            "id_jag.exp",
            format!("expired {} s ago (unverified)", expected.now - exp),
        ),
        None => Check::fail("id_jag.exp", "absent or not a number (unverified)"),
    });
    (checks, Some(jws.claims))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::oauth::Verdict;

    fn jwt(header: Value, claims: Value) -> String {
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(header), enc(claims))
    }

    const EXPECTED: Expected<'static> = Expected {
        audience: "http://127.0.0.1:4000",
        client_id: "app",
        resource: "http://127.0.0.1:3000/mcp",
        now: 1_000,
    };

    fn verdicts(assertion: &str, issued: Option<&str>) -> Vec<(String, Verdict)> {
        checks(assertion, issued, &EXPECTED)
            .0
            .into_iter()
            .map(|c| (c.check, c.result))
            .collect()
    }

    #[test]
    fn a_good_id_jag_passes_every_row_unverified() {
        let good = jwt(
            json!({"alg": "ES256", "typ": "oauth-id-jag+jwt"}),
            json!({"aud": "http://127.0.0.1:4000/", "client_id": "app",
                   "resource": "http://127.0.0.1:3000/mcp", "exp": 1_300, "sub": "u"}),
        );
        let (rows, claims) = checks(&good, Some(ID_JAG_TYPE), &EXPECTED);
        assert_eq!(rows.len(), 6);
        for row in &rows {
            assert_eq!(row.result, Verdict::Pass, "{row:?}");
        }
        assert!(rows[1..].iter().all(|r| r.detail.contains("unverified")));
        assert_eq!(claims.unwrap()["sub"], "u");
    }

    #[test]
    fn each_wrong_claim_fails_its_own_row() {
        let bad = jwt(
            json!({"alg": "ES256", "typ": "JWT"}),
            json!({"aud": ["https://other.example.com"], "client_id": "someone-else",
                   "resource": "http://127.0.0.1:3000/other", "exp": 999}),
        );
        let rows = verdicts(&bad, Some("urn:ietf:params:oauth:token-type:access_token"));
        assert!(rows.iter().all(|(_, v)| *v == Verdict::Fail), "{rows:?}");
        let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "id_jag.issued_token_type",
                "id_jag.typ",
                "id_jag.aud",
                "id_jag.client_id",
                "id_jag.resource",
                "id_jag.exp"
            ]
        );
    }

    #[test]
    fn not_a_jwt_is_one_failed_row() {
        let rows = verdicts("opaque-grant", None);
        assert_eq!(
            rows,
            [
                ("id_jag.issued_token_type".to_owned(), Verdict::Fail),
                ("id_jag.format".to_owned(), Verdict::Fail)
            ]
        );
    }
}
