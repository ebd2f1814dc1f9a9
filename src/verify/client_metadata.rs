//! The Client ID Metadata Document this app's client ID points to
//! (draft-ietf-oauth-client-id-metadata-document section 4): what the authorization server
//! will check when it reads it, checked first here.

use serde_json::Value;

use crate::oauth::Check;
use crate::redact::untrusted;

/// The check's name in the report.
pub const CHECK: &str = "client_metadata.document";

/// Section 4.1: `client_id` is the document's URL (simple string comparison); the redirect
/// URI in use must be among `redirect_uris`; no secret-based authentication.
pub fn document(doc: &Value, url: &str, redirect_uri: &str) -> Check {
    let fail = |detail: String| Check::fail(CHECK, format!("{detail} (the document at {url})"));
    if !doc.is_object() {
        return fail("not a JSON object".into());
    }
    match doc.get("client_id").and_then(Value::as_str) {
        Some(id) if id == url => {}
        Some(id) => {
            return fail(format!(
                "client_id is {:?}, not the document's URL: the authorization server will refuse \
                 it (section 4.1); print the right document with --print-client-metadata",
                untrusted(id)
            ));
        }
        None => return fail("no client_id: it must be the document's URL (section 4.1)".into()),
    }
    let listed = doc
        .get("redirect_uris")
        .and_then(Value::as_array)
        .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(redirect_uri)));
    if !listed {
        return fail(format!(
            "redirect_uris does not list {redirect_uri}, the redirect URI in use: the authorization \
             server will refuse the sign-in; print the right document with --print-client-metadata"
        ));
    }
    if let Some(method) = doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .filter(|m| m.starts_with("client_secret_"))
    {
        return fail(format!(
            "token_endpoint_auth_method is {:?}: a shared secret is not allowed with a URL client ID \
             (section 4.1)",
            untrusted(method)
        ));
    }
    Check::pass(
        CHECK,
        format!("{url} names itself as client_id and lists {redirect_uri}"),
    )
}

/// The document could not be read from here: the authorization server may still reach it,
/// so a warning, not a failure.
pub fn unreadable(url: &str, problem: &str) -> Check {
    Check::warn(
        CHECK,
        format!(
            "could not read {url} from here ({problem}): the authorization server must be able to \
             fetch it; check it is hosted there (--print-client-metadata prints it)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::Verdict;
    use serde_json::json;

    const URL: &str = "https://app.example.com/client.json";
    const REDIRECT: &str = "http://localhost:3000/oauth_callback";

    #[test]
    fn a_document_for_this_url_and_redirect_passes() {
        let doc = json!({"client_id": URL, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
        assert_eq!(document(&doc, URL, REDIRECT).result, Verdict::Pass);
    }

    #[test]
    fn each_mistake_fails_and_says_which() {
        let cases = [
            (json!([]), "not a JSON object"),
            (json!({"redirect_uris": [REDIRECT]}), "no client_id"),
            (
                json!({"client_id": "https://other.example.com/c.json", "redirect_uris": [REDIRECT]}),
                "not the document's URL",
            ),
            (
                json!({"client_id": URL, "redirect_uris": ["http://localhost:4000/cb"]}),
                "does not list",
            ),
            (
                json!({"client_id": URL, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"}),
                "shared secret",
            ),
        ];
        for (doc, says) in cases {
            let check = document(&doc, URL, REDIRECT);
            assert_eq!(check.result, Verdict::Fail, "{doc}");
            assert!(check.detail.contains(says), "{}", check.detail);
        }
    }

    #[test]
    fn an_unreadable_document_is_a_warning() {
        assert_eq!(unreadable(URL, "connection refused").result, Verdict::Warn);
    }
}
