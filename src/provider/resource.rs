//! Starting from the API (RFC 9728): the resource answers 401 with a `WWW-Authenticate`
//! header naming its metadata; the metadata names the authorization server. Each hop is
//! recorded so a person sees exactly where a setup breaks.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::http::HttpClient;
use crate::config::{Issuer, Resource};
use crate::verify::Check;

/// The fields of protected-resource metadata (RFC 9728 section 2) this client acts on.
#[derive(Deserialize)]
struct ResourceMetadata {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    scopes_supported: Option<Vec<String>>,
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
    pub scopes_supported: Option<Vec<String>>,
}

/// Why the chain broke before an authorization server was found. Exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "{url} has no protected-resource metadata: {problem}. The resource should answer 401 with \
         `WWW-Authenticate: Bearer resource_metadata=\"...\"`, or serve {well_known} (RFC 9728)"
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
    #[error("the metadata at {url} is not usable: {problem} (RFC 9728 section 2)")]
    BadMetadata { url: String, problem: String },
    #[error(
        "the metadata at {url} is for resource {got:?}, not {expected:?}: its metadata must not be \
         used (RFC 9728 section 3.3)"
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
    let url = resource.url.as_str().to_owned();
    let well_known = well_known_url(&resource.url);
    // 1. The resource, without a token: it should refuse with a Bearer challenge.
    let (status, challenge) = match http.request_without_token(&resource.method, &url).await {
        Ok((status, challenge)) => (Some(status), challenge),
        Err(e) => {
            hops.push(Hop {
                url: url.clone(),
                status: None,
                learned: e.to_string(),
            });
            (None, None)
        }
    };
    let params = challenge.as_deref().and_then(bearer_params);
    if let Some(status) = status {
        hops.push(Hop {
            url: url.clone(),
            status: Some(status),
            learned: match &challenge {
                Some(c) => format!("WWW-Authenticate: {c}"),
                None => "no WWW-Authenticate header".into(),
            },
        });
        checks.push(match (status, &params) {
            (401, Some(_)) => Check::pass(
                "resource.rejects_without_token",
                "401 with a well-formed Bearer challenge (RFC 6750 section 3, RFC 9728 section 5.1)",
            ),
            (401, None) => Check::fail(
                "resource.rejects_without_token",
                "401, but without a well-formed `WWW-Authenticate: Bearer ...` header",
            ),
            (other, _) => Check::fail(
                "resource.rejects_without_token",
                format!("HTTP {other} to a request without a token; expected 401"),
            ),
        });
    }
    // 2. Its metadata: named by the challenge, else at the well-known URL.
    let from_header = params.as_ref().and_then(|p| {
        p.iter()
            .find(|(k, _)| k == "resource_metadata")
            .map(|(_, v)| v.clone())
    });
    if let Some(named) = &from_header {
        check_named_metadata_url(named, &resource.url, hops, checks)?;
    }
    let metadata_url = from_header.clone().unwrap_or_else(|| well_known.clone());
    let response = http.get(&metadata_url).await;
    let (status, body) = match response {
        Ok(r) => (r.status, r.body),
        Err(e) => {
            hops.push(Hop {
                url: metadata_url.clone(),
                status: None,
                learned: e.to_string(),
            });
            let err = ChainError::NoMetadata {
                url,
                well_known,
                problem: e.to_string(),
            };
            checks.push(err.check());
            return Err(err);
        }
    };
    let doc: Option<Value> = (status == 200)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    let Some(doc) = doc.filter(Value::is_object) else {
        hops.push(Hop {
            url: metadata_url.clone(),
            status: Some(status),
            learned: "no protected-resource metadata here".into(),
        });
        let err = ChainError::NoMetadata {
            url,
            well_known,
            problem: format!(
                "{metadata_url} answered HTTP {status}{}",
                if status == 200 {
                    " without a JSON object"
                } else {
                    ""
                }
            ),
        };
        checks.push(err.check());
        return Err(err);
    };
    let bad = |problem: &str| ChainError::BadMetadata {
        url: metadata_url.clone(),
        problem: problem.to_owned(),
    };
    let meta: ResourceMetadata = match serde_json::from_value(doc) {
        Ok(meta) => meta,
        Err(e) => {
            let err = bad(&format!("its fields are not of the RFC 9728 types ({e})"));
            checks.push(err.check());
            return Err(err);
        }
    };
    let ResourceMetadata {
        resource: listed_resource,
        authorization_servers: servers,
        scopes_supported,
    } = meta;
    hops.push(Hop {
        url: metadata_url.clone(),
        status: Some(status),
        learned: format!(
            "resource {listed_resource:?}, authorization_servers {servers:?}, scopes_supported {:?}",
            scopes_supported.clone().unwrap_or_default()
        ),
    });
    // RFC 9728 section 3.3: the metadata must be about the resource we asked.
    if listed_resource != resource.url.as_str() && listed_resource != url.trim_end_matches('/') {
        let err = ChainError::ResourceMismatch {
            url: metadata_url,
            expected: url,
            got: listed_resource,
        };
        checks.push(err.check());
        return Err(err);
    }
    checks.push(Check::pass(
        "resource_metadata.resource",
        format!("equals the resource URL {url} (RFC 9728 section 3.3)"),
    ));
    let Some(server) = servers.first().cloned() else {
        let err = bad("authorization_servers is missing or empty");
        checks.push(err.check());
        return Err(err);
    };
    if Issuer::parse(&server).is_err() {
        let err = bad(&format!(
            "authorization server {server:?} is not an https issuer URL"
        ));
        checks.push(err.check());
        return Err(err);
    }
    checks.push(Check::pass(
        "resource_metadata.authorization_servers",
        format!("{} listed; using {server}", servers.len()),
    ));
    Ok(Chain {
        hops: hops.clone(),
        checks: checks.clone(),
        resource: listed_resource,
        authorization_server: server,
        scopes_supported,
    })
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
        Ok(u) => match crate::config::require_https_unless_loopback(&u) {
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

/// RFC 9728 section 3.1: `/.well-known/oauth-protected-resource` inserted between the host
/// and the path.
pub fn well_known_url(resource: &Url) -> String {
    let path = resource.path().trim_end_matches('/');
    format!(
        "{}/.well-known/oauth-protected-resource{path}",
        resource.origin().ascii_serialization()
    )
}

/// The auth-params of a `Bearer` challenge (RFC 9110 section 11.6.1), or `None` when the
/// header holds no Bearer challenge.
pub fn bearer_params(header: &str) -> Option<Vec<(String, String)>> {
    let at = header.to_ascii_lowercase().find("bearer")?;
    let rest = header[at + "bearer".len()..].trim_start();
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| {
            chars.next_if(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
        })
        .collect();
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next_if_eq(&'=').is_none() {
            // Another scheme starts here.
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let value: String = if chars.next_if_eq(&'"').is_some() {
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ',' && !c.is_whitespace())).collect()
        };
        params.push((key.to_ascii_lowercase(), value));
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges() {
        let p = bearer_params(r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="read write""#).unwrap();
        assert_eq!(
            p[0],
            (
                "resource_metadata".into(),
                "https://api.example.com/.well-known/oauth-protected-resource/mcp".into()
            )
        );
        assert_eq!(p[1], ("scope".into(), "read write".into()));
        let p =
            bearer_params(r#"bearer error=invalid_token, error_description="a \"quoted\" word""#)
                .unwrap();
        assert_eq!(p[0], ("error".into(), "invalid_token".into()));
        assert_eq!(p[1].1, r#"a "quoted" word"#);
        assert_eq!(bearer_params("Bearer").unwrap(), vec![]);
        assert!(bearer_params(r#"Basic realm="x""#).is_none());
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
