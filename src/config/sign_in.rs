//! `--sign-in` and its settings: the driver, the consent answer, the artifacts folder, and
//! the test user (OAUTH_TEST_USERNAME, OAUTH_TEST_PASSWORD, a one-time code), whose secrets
//! come from the environment (and so `.env`) only.

use std::path::PathBuf;

use serde_json::{Value, json};
use url::{Origin, Url};

use super::defaults::given;
use super::error::ConfigError;
use crate::clerk::PublishableKey;
use crate::cli::Cli;
use crate::signin::{Consent, Credentials, Driver, OneTimeCode, Secret, TotpKey, is_loopback};

/// `--sign-in`: the test user, and how to answer the provider's pages.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub credentials: Credentials,
    pub consent: Consent,
    /// `--artifacts`; `None`: a new temp folder when there is something to save.
    pub artifacts: Option<PathBuf>,
    /// Origins besides the authorization endpoint's that may receive the credentials:
    /// OAUTH_SIGN_IN_ORIGINS, and Clerk's Account Portal (derived from the publishable key).
    pub origins: Vec<Origin>,
}

impl SignIn {
    /// `None` without `--sign-in` (its other settings are then ignored, with a warning).
    pub(super) fn from_cli(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
        once: bool,
        clerk: Option<&PublishableKey>,
    ) -> Result<Option<Self>, ConfigError> {
        if !cli.sign_in {
            for (set, name) in [
                (&cli.consent, "--consent"),
                (&cli.sign_in_driver, "--sign-in-driver"),
                (&cli.artifacts, "--artifacts"),
                (&cli.sign_in_origins, "--sign-in-origins"),
            ] {
                if given(set).is_some() {
                    log::warn!("{name} is ignored without --sign-in");
                }
            }
            return Ok(None);
        }
        if !once {
            return Err(ConfigError::NeedsOnce("--sign-in (OAUTH_SIGN_IN)"));
        }
        let driver = Driver::from_setting(given(&cli.sign_in_driver), env)?;
        let consent = match given(&cli.consent) {
            None => Consent::Approve,
            Some(word) => {
                Consent::parse(word).ok_or_else(|| ConfigError::Consent(word.to_owned()))?
            }
        };
        let mut origins = given(&cli.sign_in_origins)
            .map(parse_origins)
            .transpose()?
            .unwrap_or_default();
        if let Some(portal) = clerk.and_then(PublishableKey::account_portal) {
            log::info!(
                "sign-in: Clerk's Account Portal {} (derived from CLERK_PUBLISHABLE_KEY) may receive the test user's credentials",
                portal.origin().ascii_serialization()
            );
            origins.push(portal.origin());
        }
        Ok(Some(Self {
            credentials: credentials(env, driver)?,
            consent,
            artifacts: given(&cli.artifacts).map(PathBuf::from),
            origins,
        }))
    }

    /// For `--print-config` and the index page: which secrets are set, never their values.
    pub(super) fn summary(&self) -> Value {
        json!({
            "driver": self.credentials.driver.name(),
            "username": self.credentials.username,
            "password": "set",
            "one_time_code": match &self.credentials.one_time_code {
                Some(OneTimeCode::Totp(_)) => "OAUTH_TEST_TOTP_SECRET",
                Some(OneTimeCode::Fixed(_)) => "OAUTH_TEST_CODE",
                None => "not set",
            },
            "consent": self.consent.name(),
            "artifacts": self.artifacts.as_ref().map(|p| p.display().to_string()),
            "other_origins": self.origins.iter().map(Origin::ascii_serialization).collect::<Vec<_>>(),
        })
    }
}

/// OAUTH_SIGN_IN_ORIGINS: comma-separated origins, https or loopback http, no path.
fn parse_origins(raw: &str) -> Result<Vec<Origin>, ConfigError> {
    let mut out = Vec::new();
    for value in raw.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let bad = |problem| ConfigError::SignInOrigin {
            value: value.to_owned(),
            problem,
        };
        let url = Url::parse(value).map_err(|_| bad("not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(bad("plain http is allowed on loopback hosts only")),
            _ => return Err(bad("not an https origin")),
        }
        if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err(bad("no host, or a user name in it"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an origin has no path, query or fragment"));
        }
        out.push(url.origin());
    }
    Ok(out)
}

/// The test user, from the environment only: flags would show in the process list.
fn credentials(
    env: &dyn Fn(&str) -> Option<String>,
    driver: Driver,
) -> Result<Credentials, ConfigError> {
    // Leading and trailing spaces count in a password: only an empty one is unset.
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let username = var("OAUTH_TEST_USERNAME");
    let password = var("OAUTH_TEST_PASSWORD");
    let missing: Vec<&str> = [
        ("OAUTH_TEST_USERNAME", username.is_none()),
        ("OAUTH_TEST_PASSWORD", password.is_none()),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| *name)
    .collect();
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ConfigError::SignInCredentials(missing.join(" and ")));
    };
    let one_time_code = match (var("OAUTH_TEST_TOTP_SECRET"), var("OAUTH_TEST_CODE")) {
        (Some(_), Some(_)) => return Err(ConfigError::TwoCodes),
        (Some(secret), None) => Some(OneTimeCode::Totp(
            TotpKey::from_base32(&Secret::new(secret)).map_err(ConfigError::TotpSecret)?,
        )),
        (None, Some(code)) => Some(OneTimeCode::Fixed(Secret::new(code.trim().to_owned()))),
        (None, None) => None,
    };
    Ok(Credentials {
        username: username.trim().to_owned(),
        password: Secret::new(password),
        one_time_code,
        driver,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::cli;
    use crate::config::{Config, ConfigError};
    use crate::signin::{Consent, OneTimeCode};

    #[test]
    fn sign_in_needs_once_and_the_test_user_from_the_environment() {
        fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        let user = env(&[
            ("OAUTH_TEST_USERNAME", "ci@example.com"),
            ("OAUTH_TEST_PASSWORD", "pa55 word"),
        ]);
        let mut raw = cli();
        raw.sign_in = true;
        let msg = Config::from_cli_and_env(&raw, &user)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("--sign-in") && msg.contains("--once"), "{msg}");
        raw.once = true;
        let msg = Config::from_cli_and_env(&raw, &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("OAUTH_TEST_USERNAME and OAUTH_TEST_PASSWORD"),
            "{msg}"
        );
        let msg = Config::from_cli_and_env(&raw, &env(&[("OAUTH_TEST_USERNAME", "a")]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("OAUTH_TEST_PASSWORD") && !msg.contains("OAUTH_TEST_USERNAME"),
            "{msg}"
        );

        let c = Config::from_cli_and_env(&raw, &user).unwrap();
        let s = c.sign_in.as_ref().unwrap();
        assert_eq!(s.credentials.username, "ci@example.com");
        assert_eq!(s.credentials.password.expose(), "pa55 word");
        assert_eq!(s.consent, Consent::Approve);
        assert!(!c.open_browser, "the driver signs in: no browser");
        assert!(
            !format!("{c:?}").contains("pa55"),
            "Debug hides the password"
        );
        assert!(!c.summary().to_string().contains("pa55"));
        assert_eq!(c.summary()["sign_in"]["consent"], "approve");

        raw.consent = Some("Deny".into());
        let c = Config::from_cli_and_env(&raw, &user).unwrap();
        assert_eq!(c.sign_in.unwrap().consent, Consent::Deny);
        raw.consent = Some("maybe".into());
        assert!(matches!(
            Config::from_cli_and_env(&raw, &user),
            Err(ConfigError::Consent(_))
        ));
        raw.consent = None;

        raw.sign_in_driver = Some("auto".into());
        assert!(Config::from_cli_and_env(&raw, &user).is_ok());
        raw.sign_in_driver = Some("selenium".into());
        assert!(matches!(
            Config::from_cli_and_env(&raw, &user),
            Err(ConfigError::SignInDriver(_))
        ));
        raw.sign_in_driver = None;

        let with = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                ("OAUTH_TEST_USERNAME", "ci@example.com"),
                ("OAUTH_TEST_PASSWORD", "pw"),
            ];
            vars.extend_from_slice(extra);
            Config::from_cli_and_env(&raw, &env(&vars))
        };
        let c = with(&[("OAUTH_TEST_TOTP_SECRET", "JBSW Y3DP EHPK 3PXP")]).unwrap();
        assert!(matches!(
            c.sign_in.unwrap().credentials.one_time_code,
            Some(OneTimeCode::Totp(_))
        ));
        let msg = with(&[("OAUTH_TEST_TOTP_SECRET", "not!base32")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("OAUTH_TEST_TOTP_SECRET") && !msg.contains("not!base32"),
            "{msg}"
        );
        assert!(matches!(
            with(&[
                ("OAUTH_TEST_CODE", "123456"),
                ("OAUTH_TEST_TOTP_SECRET", "JBSWY3DP")
            ]),
            Err(ConfigError::TwoCodes)
        ));
        let c = with(&[("OAUTH_TEST_CODE", "424242")]).unwrap();
        assert!(!format!("{c:?}").contains("424242"));
    }

    #[test]
    fn sign_in_origins_are_https_or_loopback_origins_without_a_path() {
        let ok = super::parse_origins(
            " https://login.example.com , http://127.0.0.1:9000/,https://a.example:8443",
        )
        .unwrap();
        let shown: Vec<String> = ok.iter().map(url::Origin::ascii_serialization).collect();
        assert_eq!(
            shown,
            [
                "https://login.example.com",
                "http://127.0.0.1:9000",
                "https://a.example:8443"
            ]
        );
        for bad in [
            "http://login.example.com",
            "https://login.example.com/sign-in",
            "file:///etc",
            "login.example.com",
            "https://user@login.example.com",
        ] {
            let e = super::parse_origins(bad).unwrap_err().to_string();
            assert!(e.starts_with("OAUTH_SIGN_IN_ORIGINS"), "{bad}: {e}");
        }
    }
}
