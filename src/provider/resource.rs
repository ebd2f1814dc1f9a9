//! Starting from the API (RFC 9728): the resource answers 401 with a `WWW-Authenticate`
//! header naming its metadata; the metadata names the authorization server. Each hop is
//! recorded so a person sees exactly where a setup breaks.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::challenge::{self, Bearer};
use super::http::HttpClient;
use crate::config::Resource;
use crate::oauth::Check;
use crate::oauth::Issuer;
use crate::redact::untrusted;

/// The fields of protected-resource metadata (RFC 9728 section 2) this client acts on.
#[derive(Deserialize)]
struct ResourceMetadata {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    scopes_supported: Option<Vec<String>>,
    /// RFC 9449 section 5.2: the resource takes DPoP-bound tokens only.
    #[serde(default)]
    dpop_bound_access_tokens_required: bool,
}

/// One hop of the discovery chain.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub url: String,
    pub status: Option<u16>,
    pub learned: String,
}

/// What the resource told us.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    pub hops: Vec<Hop>,
    #[serde(skip)]
    pub checks: Vec<Check>,
    /// The resource identifier (RFC 8707 `resource` parameter).
    pub resource: String,
    pub authorization_server: String,
    /// Every authorization server the metadata lists (RFC 9728 section 2).
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Option<Vec<String>>,
    /// The `scope` of the resource's Bearer challenge, when it named one (the scopes to ask
    /// for first: MCP authorization, "Scope Selection Strategy").
    pub challenge_scope: Option<String>,
    /// The resource refused a GET (404, 405, 406) but challenged a POST: it answers like an
    /// MCP server over Streamable HTTP.
    pub answers_like_mcp: bool,
    /// No protected-resource metadata: the MCP 2025-03-26 fallbacks apply (the server's
    /// origin is its authorization server).
    pub legacy: bool,
    /// The resource wants DPoP-bound tokens: its challenge is `DPoP`, or its metadata says
    /// `dpop_bound_access_tokens_required` (RFC 9449 sections 7.1 and 5.2).
    pub dpop: bool,
}

/// Why the chain broke before an authorization server was found. Exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "{url} has no protected-resource metadata: {}. The resource should answer 401 with \
         `WWW-Authenticate: Bearer resource_metadata=\"...\"`, or serve {well_known} (RFC 9728)",
        untrusted(.problem)
    )]
    NoMetadata {
        url: String,
        well_known: String,
        problem: String,
    },
    #[error(
        "the resource's WWW-Authenticate names its metadata at {url:?}, which is refused: {problem} \
         (RFC 9728 section 5.1)"
    )]
    BadMetadataUrl { url: String, problem: String },
    #[error(
        "the metadata at {} is not usable: {} (RFC 9728 section 2)",
        untrusted(.url),
        untrusted(.problem)
    )]
    BadMetadata { url: String, problem: String },
    #[error(
        "the metadata at {} is for resource {got:?}, not {expected:?}: its metadata must not be \
         used (RFC 9728 section 3.3)",
        untrusted(.url)
    )]
    ResourceMismatch {
        url: String,
        expected: String,
        got: String,
    },
}

impl ChainError {
    /// The named check this failure stands for, in the report.
    pub fn check(&self) -> Check {
        match self {
            Self::ResourceMismatch { .. } => {
                Check::fail("resource_metadata.resource", self.to_string())
            }
            Self::NoMetadata { .. } => Check::fail("resource_metadata.found", self.to_string()),
            Self::BadMetadataUrl { .. } => Check::fail("resource_metadata.url", self.to_string()),
            Self::BadMetadata { .. } => {
                Check::fail("resource_metadata.authorization_servers", self.to_string())
            }
        }
    }
}

/// Follows the chain from the resource to its authorization server. `hops` and `checks`
/// collect what was seen, also when it fails.
pub async fn discover(
    http: &HttpClient,
    resource: &Resource,
    hops: &mut Vec<Hop>,
    checks: &mut Vec<Check>,
) -> Result<Chain, ChainError> {
    let (bearer, answers_like_mcp) = probe(http, resource, hops, checks).await;
    let bearer = bearer.ok();
    let challenge_scope = bearer.as_ref().and_then(|b| b.scope.clone());
    let dpop_challenge = bearer.as_ref().is_some_and(|b| b.dpop);
    // The metadata: named by the challenge, else at the well-known URL with the resource's
    // path, else at the root one (RFC 9728 section 3.1; MCP authorization, "Protected
    // Resource Metadata Discovery Requirements").
    let named = bearer.and_then(|b| b.resource_metadata);
    let found = match named {
        Some(named) => {
            check_named_metadata_url(&named, &resource.url, hops, checks)?;
            fetch_metadata(http, &resource.url, named, hops, checks).await?
        }
        None => {
            let suffixed = well_known_url(&resource.url);
            let origin = origin_of(&resource.url);
            let root = well_known_url(&origin);
            match fetch_metadata(http, &resource.url, suffixed.clone(), hops, checks).await {
                Err(ChainError::NoMetadata { problem: first, .. }) if root != suffixed => {
                    // Only the root's answer counts: the path-suffixed miss is not a failure.
                    // Metadata at the root describes the origin (RFC 9728 section 3.3).
                    checks.retain(|c| c.check != "resource_metadata.found");
                    match fetch_metadata(http, &origin, root, hops, checks).await {
                        Err(ChainError::NoMetadata { problem, .. }) => {
                            checks.retain(|c| c.check != "resource_metadata.found");
                            let err = ChainError::NoMetadata {
                                url: resource.url.as_str().to_owned(),
                                well_known: suffixed,
                                problem: format!("{first}, and {problem}"),
                            };
                            checks.push(err.check());
                            return Err(err);
                        }
                        other => other?,
                    }
                }
                other => other?,
            }
        }
    };
    Ok(Chain {
        hops: hops.clone(),
        checks: checks.clone(),
        resource: found.resource,
        authorization_server: found.authorization_server,
        authorization_servers: found.authorization_servers,
        scopes_supported: found.scopes_supported,
        challenge_scope,
        answers_like_mcp,
        legacy: false,
        dpop: dpop_challenge || found.dpop_required,
    })
}

/// The resource's origin as a resource identifier: the URL without path or query.
fn origin_of(resource: &Url) -> Url {
    let mut origin = resource.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    origin
}

/// The first hop: the resource, asked without a token, should refuse with a Bearer
/// challenge (RFC 6750 section 3, RFC 9728 section 5.1). Returns the challenge, or why
/// there is none.
async fn probe(
    http: &HttpClient,
    resource: &Resource,
    hops: &mut Vec<Hop>,
    checks: &mut Vec<Check>,
) -> (Result<Bearer, String>, bool) {
    let url = resource.url.as_str().to_owned();
    let mut answer = http.request_without_token(&resource.method, &url).await;
    let mut answers_like_mcp = false;
    // A Streamable HTTP (MCP) server takes POST only: a refused GET is asked again as POST.
    if resource.method == "GET"
        && let Ok((status @ 404..=406, _)) = &answer
    {
        hops.push(Hop {
            url: url.clone(),
            status: Some(*status),
            learned: "GET refused; asking again with POST, as an MCP client would".into(),
        });
        let post = http.request_without_token("POST", &url).await;
        answers_like_mcp = matches!(post, Ok((401, _)));
        if answers_like_mcp {
            answer = post;
        }
    }
    let (status, lines) = match answer {
        Ok(answer) => answer,
        Err(e) => {
            hops.push(Hop {
                url,
                status: None,
                learned: e.to_string(),
            });
            return (Err(e.to_string()), false);
        }
    };
    let bearer = read_challenge(&lines);
    hops.push(Hop {
        url,
        status: Some(status),
        learned: match lines.as_slice() {
            [] => "no WWW-Authenticate header".into(),
            lines => lines
                .iter()
                .map(|l| format!("WWW-Authenticate: {l}"))
                .collect::<Vec<_>>()
                .join("; "),
        },
    });
    checks.push(match (status, &bearer) {
        (401, Ok(_)) => Check::pass(
            "resource.rejects_without_token",
            "401 with a well-formed Bearer challenge (RFC 6750 section 3, RFC 9728 section 5.1)",
        ),
        (401, Err(why)) => Check::fail(
            "resource.rejects_without_token",
            format!("401, but without a well-formed `WWW-Authenticate: Bearer ...` header: {why}"),
        ),
        (other, _) => Check::fail(
            "resource.rejects_without_token",
            format!("HTTP {other} to a request without a token; expected 401"),
        ),
    });
    (bearer, answers_like_mcp)
}

/// The second hop: the metadata document at `metadata_url`, fetched and read.
async fn fetch_metadata(
    http: &HttpClient,
    resource: &Url,
    metadata_url: String,
    hops: &mut Vec<Hop>,
    checks: &mut Vec<Check>,
) -> Result<Found, ChainError> {
    let (status, body) = match http.get(&metadata_url).await {
        Ok(r) => (r.status, r.body),
        Err(e) => {
            hops.push(Hop {
                url: metadata_url,
                status: None,
                learned: e.to_string(),
            });
            let err = ChainError::NoMetadata {
                url: resource.as_str().to_owned(),
                well_known: well_known_url(resource),
                problem: e.to_string(),
            };
            checks.push(err.check());
            return Err(err);
        }
    };
    let read = read_metadata(resource, &metadata_url, status, &body);
    hops.push(Hop {
        url: metadata_url,
        status: Some(status),
        learned: read.learned,
    });
    checks.extend(read.checks);
    read.result
}

/// The metadata URL a `WWW-Authenticate` header names: https unless loopback (a plain-http
/// hop could be rewritten on the way, and its answer names where the client's credentials
/// go); on another origin than the resource, a warning (RFC 9728 section 7.3 allows it, but
/// it is worth a look).
fn check_named_metadata_url(
    named: &str,
    resource: &Url,
    hops: &mut Vec<Hop>,
    checks: &mut Vec<Check>,
) -> Result<(), ChainError> {
    let problem = match Url::parse(named) {
        Err(e) => format!("it is not a URL ({e})"),
        Ok(u) => match crate::oauth::require_https_unless_loopback(&u) {
            Err(problem) => problem,
            Ok(()) => {
                if u.origin() != resource.origin() {
                    checks.push(Check::warn(
                        "resource_metadata.origin",
                        format!(
                            "the resource names metadata on another origin ({}) than its own ({}): \
                             make sure that host is yours (RFC 9728 section 7.3)",
                            u.origin().ascii_serialization(),
                            resource.origin().ascii_serialization()
                        ),
                    ));
                }
                return Ok(());
            }
        },
    };
    hops.push(Hop {
        url: named.to_owned(),
        status: None,
        learned: "not fetched".into(),
    });
    let err = ChainError::BadMetadataUrl {
        url: named.to_owned(),
        problem,
    };
    checks.push(err.check());
    Err(err)
}

/// The Bearer challenge in a 401's `WWW-Authenticate` lines (RFC 6750 section 3), or why
/// there is none.
pub fn read_challenge(lines: &[String]) -> Result<Bearer, String> {
    if lines.is_empty() {
        return Err("no WWW-Authenticate header".into());
    }
    let challenges =
        challenge::parse(lines.iter().map(String::as_str)).map_err(|e| e.to_string())?;
    Bearer::find(&challenges).ok_or_else(|| {
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        format!("no Bearer challenge (schemes: {schemes:?})")
    })
}

/// What a metadata document established: the resource it is about, the authorization server
/// to use, and the scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub resource: String,
    pub authorization_server: String,
    /// Every server `authorization_servers` lists (the first is `authorization_server`).
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Option<Vec<String>>,
    /// `dpop_bound_access_tokens_required` (RFC 9449 section 5.2).
    pub dpop_required: bool,
}

/// A metadata response, read: the hop's summary, the checks made, and what was found.
#[derive(Debug)]
pub struct MetadataRead {
    pub learned: String,
    pub checks: Vec<Check>,
    pub result: Result<Found, ChainError>,
}

/// Reads the metadata answer fetched from `metadata_url` for `resource` (RFC 9728 sections
/// 2 and 3.3). Pure, for any status and body (fuzzed: `resource_challenge`).
pub fn read_metadata(resource: &Url, metadata_url: &str, status: u16, body: &[u8]) -> MetadataRead {
    let mut checks = Vec::new();
    let (learned, result) = match parse_metadata(resource, metadata_url, status, body) {
        Err((learned, err)) => (learned, Err(err)),
        Ok(meta) => {
            let learned = format!(
                "resource {:?}, authorization_servers {:?}, scopes_supported {:?}",
                meta.resource,
                meta.authorization_servers,
                meta.scopes_supported.clone().unwrap_or_default()
            );
            let result = check_metadata(resource, metadata_url, meta, &mut checks);
            (learned, result)
        }
    };
    if let Err(e) = &result {
        checks.push(e.check());
    }
    MetadataRead {
        learned,
        checks,
        result,
    }
}

/// The answer as RFC 9728 section 2 metadata, or the hop's summary and why it is not.
fn parse_metadata(
    resource: &Url,
    metadata_url: &str,
    status: u16,
    body: &[u8],
) -> Result<ResourceMetadata, (String, ChainError)> {
    let doc: Option<Value> = (status == 200)
        .then(|| serde_json::from_slice(body).ok())
        .flatten();
    let Some(doc) = doc.filter(Value::is_object) else {
        let without = if status == 200 {
            " without a JSON object"
        } else {
            ""
        };
        return Err((
            "no protected-resource metadata here".into(),
            ChainError::NoMetadata {
                url: resource.as_str().to_owned(),
                well_known: well_known_url(resource),
                problem: format!("{metadata_url} answered HTTP {status}{without}"),
            },
        ));
    };
    serde_json::from_value(doc).map_err(|e| {
        (
            "metadata with fields not of the RFC 9728 types".into(),
            ChainError::BadMetadata {
                url: metadata_url.to_owned(),
                problem: format!("its fields are not of the RFC 9728 types ({e})"),
            },
        )
    })
}

/// The metadata is about this resource (RFC 9728 section 3.3) and names an authorization
/// server that is an https issuer: each rule that holds is a passed check.
fn check_metadata(
    resource: &Url,
    metadata_url: &str,
    meta: ResourceMetadata,
    checks: &mut Vec<Check>,
) -> Result<Found, ChainError> {
    let url = resource.as_str();
    let bad = |problem: String| ChainError::BadMetadata {
        url: metadata_url.to_owned(),
        problem,
    };
    if meta.resource != url && meta.resource != url.trim_end_matches('/') {
        return Err(ChainError::ResourceMismatch {
            url: metadata_url.to_owned(),
            expected: url.to_owned(),
            got: meta.resource,
        });
    }
    checks.push(Check::pass(
        "resource_metadata.resource",
        format!("equals the resource URL {url} (RFC 9728 section 3.3)"),
    ));
    let servers = &meta.authorization_servers;
    let Some(server) = servers.first().cloned() else {
        return Err(bad("authorization_servers is missing or empty".into()));
    };
    // Printable ASCII only: URL parsing would drop a tab or newline from the string that
    // then becomes the issuer, compared and logged as it is.
    if !server.bytes().all(|b| b.is_ascii_graphic()) || Issuer::parse(&server).is_err() {
        return Err(bad(format!(
            "authorization server {server:?} is not an https issuer URL"
        )));
    }
    checks.push(Check::pass(
        "resource_metadata.authorization_servers",
        format!("{} listed; using {server}", servers.len()),
    ));
    Ok(Found {
        resource: meta.resource,
        authorization_server: server,
        authorization_servers: servers.clone(),
        scopes_supported: meta.scopes_supported,
        dpop_required: meta.dpop_bound_access_tokens_required,
    })
}

/// The resource's metadata URL when its challenge names none (RFC 9728 section 3.1).
pub fn well_known_url(resource: &Url) -> String {
    crate::oauth::well_known_url(resource, "oauth-protected-resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(header: &[&str]) -> Vec<String> {
        header.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn the_bearer_challenge_is_found_by_the_grammar() {
        let b = read_challenge(&lines(&[r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="read write""#])).unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("https://api.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(b.scope.as_deref(), Some("read write"));
        let b = read_challenge(&lines(&[
            r#"bearer error=invalid_token, error_description="a \"quoted\" word""#,
        ]))
        .unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert_eq!(b.error_description.as_deref(), Some(r#"a "quoted" word"#));
        assert_eq!(read_challenge(&lines(&["Bearer"])), Ok(Bearer::default()));
        assert!(read_challenge(&lines(&[r#"Basic realm="x""#])).is_err());
        // The old scan found "bearer" anywhere, quoted strings included.
        assert!(read_challenge(&lines(&[r#"Basic realm="bearer""#])).is_err());
        let b = read_challenge(&lines(&[r#"Basic realm="x, y", Bearer scope="a b""#])).unwrap();
        assert_eq!(b.scope.as_deref(), Some("a b"));
        let b = read_challenge(&lines(&[r#"Basic realm="x""#, r#"Bearer scope="a""#])).unwrap();
        assert_eq!(b.scope.as_deref(), Some("a"), "a second header line");
        let why = read_challenge(&lines(&["Bearer scope=\"a"])).unwrap_err();
        assert!(why.contains("not closed"), "{why}");
        assert!(read_challenge(&[]).is_err());
    }

    #[test]
    fn metadata_is_read_and_checked_without_io() {
        let resource = Url::parse("https://api.example.com/mcp").unwrap();
        let meta = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
        let body = br#"{"resource":"https://api.example.com/mcp","authorization_servers":["https://as.example.com"],"scopes_supported":["a"]}"#;
        let read = read_metadata(&resource, meta, 200, body);
        assert_eq!(
            read.result.unwrap(),
            Found {
                resource: "https://api.example.com/mcp".into(),
                authorization_server: "https://as.example.com".into(),
                authorization_servers: vec!["https://as.example.com".into()],
                scopes_supported: Some(vec!["a".into()]),
                dpop_required: false,
            }
        );
        assert_eq!(read.checks.len(), 2);
        let foreign = br#"{"resource":"https://evil.example.com/mcp","authorization_servers":["https://as.example.com"]}"#;
        let read = read_metadata(&resource, meta, 200, foreign);
        assert!(matches!(
            read.result,
            Err(ChainError::ResourceMismatch { .. })
        ));
        assert_eq!(
            read.checks.last().unwrap().check,
            "resource_metadata.resource"
        );
        for (status, body) in [
            (404, &b"{}"[..]),
            (200, b"[]"),
            (200, b"\xff"),
            (200, br#"{"resource": 7}"#),
            (200, br#"{"resource":"https://api.example.com/mcp"}"#),
            (200, br#"{"resource":"https://api.example.com/mcp","authorization_servers":["http://as.example.com"]}"#),
            (200, br#"{"resource":"https://api.example.com/mcp","authorization_servers":["https://as.exa\nmple.com"]}"#),
            (200, br#"{"resource":"https://api.example.com/mcp","authorization_servers":[" https://as.example.com"]}"#),
        ] {
            let read = read_metadata(&resource, meta, status, body);
            assert!(read.result.is_err(), "{status} {body:?}");
            assert_eq!(read.checks.last().unwrap().result, crate::oauth::Verdict::Fail);
        }
    }

    #[test]
    fn the_well_known_goes_between_host_and_path() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            well_known_url(&u("https://api.example.com/mcp")),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            well_known_url(&u("https://api.example.com/")),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            well_known_url(&u("http://127.0.0.1:8080/v1/api/")),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/v1/api"
        );
    }
}
