//! `--grant jwt_bearer` (workload identity federation, RFC 7523 section 2.1): where the JWT
//! the workload already holds comes from. A file (OAUTH_ASSERTION_FILE: a platform's projected
//! service token, say), or on GitHub Actions the runner's OIDC token endpoint
//! (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, set for a job with
//! `permissions: id-token: write`), asked for OAUTH_WORKLOAD_AUDIENCE. The assertion and the
//! request token are secrets: their `Debug` prints neither, and no message quotes them.

use std::path::PathBuf;

use url::Url;

use super::ConfigError;
use super::defaults::given;
use crate::cli::Cli;
use crate::oauth::require_https_unless_loopback;

/// A JWT or a bearer token, never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The workload's assertion, or where to fetch it.
#[derive(Debug, Clone)]
pub enum WorkloadAssertion {
    /// OAUTH_ASSERTION_FILE, read at start.
    File { path: PathBuf, jwt: Secret },
    /// GitHub Actions OIDC: fetched at run time from `url` with `request_token`, for
    /// `audience` (default: the authorization server's issuer).
    GithubActions {
        url: Url,
        request_token: Secret,
        audience: Option<String>,
    },
}

impl WorkloadAssertion {
    /// The source for `--grant jwt_bearer`: the file when OAUTH_ASSERTION_FILE is set, else
    /// GitHub Actions' OIDC endpoint when the runner set its two variables.
    pub(super) fn from_cli(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        if let Some(raw) = given(&cli.assertion_file) {
            let path = PathBuf::from(raw);
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::AssertionFile {
                path: path.clone(),
                problem: e.to_string(),
            })?;
            let jwt = text.trim().to_owned();
            if !looks_like_jwt(&jwt) {
                return Err(ConfigError::AssertionFile {
                    path,
                    problem: "it does not hold a JWT (three base64url parts joined by dots)".into(),
                });
            }
            return Ok(Self::File {
                path,
                jwt: Secret(jwt),
            });
        }
        let url = env("ACTIONS_ID_TOKEN_REQUEST_URL").filter(|v| !v.trim().is_empty());
        let token = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").filter(|v| !v.trim().is_empty());
        let (Some(raw), Some(token)) = (url, token) else {
            return Err(ConfigError::NoWorkloadAssertion);
        };
        let err = |problem: String| ConfigError::WorkloadUrl {
            value: raw.clone(),
            problem,
        };
        let url = Url::parse(raw.trim()).map_err(|e| err(e.to_string()))?;
        require_https_unless_loopback(&url).map_err(err)?;
        Ok(Self::GithubActions {
            url,
            request_token: Secret(token.trim().to_owned()),
            audience: given(&cli.workload_audience).map(str::to_owned),
        })
    }
}

fn looks_like_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use clap::Parser;

    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["oauth-test-client", "--grant", "jwt_bearer"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn the_assertion_comes_from_a_file_or_github_actions_and_is_never_printed() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln").unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let none = |_: &str| None;
        let found = WorkloadAssertion::from_cli(&cli(&["--assertion-file", &path]), &none).unwrap();
        let WorkloadAssertion::File { jwt, .. } = &found else {
            panic!("{found:?}")
        };
        assert_eq!(jwt.secret(), "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln");
        assert!(!format!("{found:?}").contains("eyJ"), "{found:?}");

        let github = |name: &str| match name {
            "ACTIONS_ID_TOKEN_REQUEST_URL" => {
                Some("https://token.actions.example/id?api-version=2.0".to_owned())
            }
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => Some("request-token-123".to_owned()),
            _ => None,
        };
        let found = WorkloadAssertion::from_cli(
            &cli(&["--workload-audience", "https://as.example"]),
            &github,
        )
        .unwrap();
        assert!(
            matches!(&found, WorkloadAssertion::GithubActions { audience: Some(a), .. } if a == "https://as.example")
        );
        assert!(!format!("{found:?}").contains("request-token"), "{found:?}");
    }

    #[test]
    fn no_source_or_a_file_without_a_jwt_is_named() {
        let e = WorkloadAssertion::from_cli(&cli(&[]), &|_| None).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("OAUTH_ASSERTION_FILE") && msg.contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
            "{msg}"
        );
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "not a jwt but a secret-ish line").unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let msg = WorkloadAssertion::from_cli(&cli(&["--assertion-file", &path]), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("does not hold a JWT") && !msg.contains("secret-ish"),
            "{msg}"
        );
        let plain = |name: &str| match name {
            "ACTIONS_ID_TOKEN_REQUEST_URL" => Some("http://tokens.example/id".to_owned()),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => Some("t".to_owned()),
            _ => None,
        };
        let msg = WorkloadAssertion::from_cli(&cli(&[]), &plain)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{msg}");
    }
}
