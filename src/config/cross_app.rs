//! Cross-app access (MCP "Enterprise-Managed Authorization", SEP-990): the enterprise IdP
//! that turns the user's ID token into an ID-JAG (RFC 8693 token exchange), which the
//! authorization server takes as a JWT-bearer grant (RFC 7523). Set when OAUTH_IDP_ID_TOKEN
//! is; the token comes from the environment (and so `.env`) only, never a flag.

use url::Url;

use super::defaults::given;
use super::error::{ConfigError, CrossAppProblem};
use crate::cli::Cli;
use crate::oauth::{Issuer, require_https_unless_loopback};

/// The ID token the IdP issued the user, the subject of the token exchange. A credential:
/// `Debug` never shows it.
#[derive(Clone)]
pub struct SubjectToken(String);

impl SubjectToken {
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SubjectToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectToken([redacted])")
    }
}

/// Where the IdP's token endpoint is found.
#[derive(Debug, Clone)]
pub enum IdpEndpoint {
    /// OAUTH_IDP_ISSUER: its metadata names the token endpoint.
    Issuer(Issuer),
    /// OAUTH_IDP_TOKEN_URL: the token endpoint itself.
    TokenUrl(Url),
}

/// The cross-app access settings.
#[derive(Debug, Clone)]
pub struct CrossApp {
    pub idp: IdpEndpoint,
    /// OAUTH_IDP_CLIENT_ID: this app's client at the IdP (sent as `client_id`).
    pub idp_client_id: Option<String>,
    pub subject_token: SubjectToken,
}

impl CrossApp {
    /// `None` without OAUTH_IDP_ID_TOKEN (the IdP settings are then ignored, with a warning).
    pub(super) fn from_cli(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let token = env("OAUTH_IDP_ID_TOKEN").filter(|t| !t.trim().is_empty());
        let issuer = given(&cli.idp_issuer);
        let token_url = given(&cli.idp_token_url);
        let Some(token) = token else {
            if issuer.is_some() || token_url.is_some() || given(&cli.idp_client_id).is_some() {
                log::warn!(
                    "OAUTH_IDP_ISSUER, OAUTH_IDP_TOKEN_URL and OAUTH_IDP_CLIENT_ID are ignored \
                     without OAUTH_IDP_ID_TOKEN (cross-app access)"
                );
            }
            return Ok(None);
        };
        let idp = match (issuer, token_url) {
            (Some(_), Some(_)) => return Err(ConfigError::CrossApp(CrossAppProblem::TwoIdps)),
            (None, None) => return Err(ConfigError::CrossApp(CrossAppProblem::NoIdp)),
            (Some(raw), None) => IdpEndpoint::Issuer(Issuer::parse(raw).map_err(|problem| {
                ConfigError::CrossApp(CrossAppProblem::Url {
                    name: "OAUTH_IDP_ISSUER",
                    value: raw.to_owned(),
                    problem,
                })
            })?),
            (None, Some(raw)) => {
                let err = |problem: String| {
                    ConfigError::CrossApp(CrossAppProblem::Url {
                        name: "OAUTH_IDP_TOKEN_URL",
                        value: raw.to_owned(),
                        problem,
                    })
                };
                let url = Url::parse(raw).map_err(|e| err(format!("{e}; give the full URL")))?;
                require_https_unless_loopback(&url).map_err(err)?;
                IdpEndpoint::TokenUrl(url)
            }
        };
        if !cli.once {
            return Err(ConfigError::NeedsOnce(
                "cross-app access (OAUTH_IDP_ID_TOKEN)",
            ));
        }
        if given(&cli.resource_url).is_none() {
            return Err(ConfigError::CrossApp(CrossAppProblem::NoResource));
        }
        if cli.dpop {
            return Err(ConfigError::CrossApp(CrossAppProblem::NotWith(
                "--dpop (OAUTH_DPOP)",
            )));
        }
        if cli.audit {
            return Err(ConfigError::CrossApp(CrossAppProblem::NotWith(
                "--audit (OAUTH_AUDIT)",
            )));
        }
        if !cli.then.is_empty() {
            return Err(ConfigError::CrossApp(CrossAppProblem::NotWith("--then")));
        }
        if given(&cli.client_id).is_none() {
            return Err(ConfigError::CrossApp(CrossAppProblem::NoClientId));
        }
        Ok(Some(Self {
            idp,
            idp_client_id: given(&cli.idp_client_id).map(str::to_owned),
            subject_token: SubjectToken(token.trim().to_owned()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str], token: Option<&str>) -> Result<Option<CrossApp>, ConfigError> {
        let mut all = vec!["oauth-test-client"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).unwrap();
        let token = token.map(str::to_owned);
        CrossApp::from_cli(&cli, &move |name| {
            (name == "OAUTH_IDP_ID_TOKEN")
                .then(|| token.clone())
                .flatten()
        })
    }

    const BASE: [&str; 5] = [
        "--once",
        "--resource-url",
        "http://127.0.0.1:3000/mcp",
        "--client-id",
        "app",
    ];

    #[test]
    fn set_only_by_the_id_token() {
        let mut args = BASE.to_vec();
        args.extend(["--idp-issuer", "http://127.0.0.1:4000"]);
        assert!(parse(&args, None).unwrap().is_none());
        let set = parse(&args, Some("eyJ.a.b")).unwrap().unwrap();
        assert!(matches!(set.idp, IdpEndpoint::Issuer(_)));
        assert_eq!(set.subject_token.secret(), "eyJ.a.b");
        assert!(!format!("{set:?}").contains("eyJ"), "Debug never shows it");
    }

    #[test]
    fn each_mistake_names_its_setting() {
        let msg = |args: &[&str]| parse(args, Some("t")).unwrap_err().to_string();
        assert!(msg(&BASE).contains("OAUTH_IDP_ISSUER"));
        let mut both = BASE.to_vec();
        both.extend([
            "--idp-issuer",
            "http://127.0.0.1:4000",
            "--idp-token-url",
            "http://127.0.0.1:4000/token",
        ]);
        assert!(msg(&both).contains("both set"));
        let plain = ["--once", "--idp-token-url", "http://idp.example.com/token"];
        assert!(msg(&plain).contains("https"), "{}", msg(&plain));
        let no_resource = ["--once", "--idp-token-url", "http://127.0.0.1:4000/token"];
        assert!(msg(&no_resource).contains("RESOURCE_URL"));
        let no_once = [
            "--resource-url",
            "http://127.0.0.1:3000/mcp",
            "--idp-token-url",
            "http://127.0.0.1:4000/token",
        ];
        assert!(msg(&no_once).contains("--once"));
        let no_client = [
            "--once",
            "--resource-url",
            "http://127.0.0.1:3000/mcp",
            "--idp-token-url",
            "http://127.0.0.1:4000/token",
        ];
        assert!(msg(&no_client).contains("CLIENT_ID"));
        let mut dpop = BASE.to_vec();
        dpop.extend(["--idp-token-url", "http://127.0.0.1:4000/token", "--dpop"]);
        assert!(msg(&dpop).contains("--dpop"));
    }
}
