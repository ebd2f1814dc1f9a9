//! `--sign-in` and its settings: the driver, the consent answer, the artifacts folder, and
//! the test user (OAUTH_TEST_USERNAME, OAUTH_TEST_PASSWORD, a one-time code), whose secrets
//! come from the environment (and so `.env`) only.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::defaults::given;
use super::error::ConfigError;
use crate::cli::Cli;
use crate::signin::{Consent, Credentials, Driver, OneTimeCode, Secret, TotpKey};

/// `--sign-in`: the test user, and how to answer the provider's pages.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub credentials: Credentials,
    pub consent: Consent,
    /// `--artifacts`; `None`: a new temp folder when there is something to save.
    pub artifacts: Option<PathBuf>,
}

impl SignIn {
    /// `None` without `--sign-in` (its other settings are then ignored, with a warning).
    pub(super) fn from_cli(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
        once: bool,
    ) -> Result<Option<Self>, ConfigError> {
        if !cli.sign_in {
            for (set, name) in [
                (&cli.consent, "--consent"),
                (&cli.sign_in_driver, "--sign-in-driver"),
                (&cli.artifacts, "--artifacts"),
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
        Ok(Some(Self {
            credentials: credentials(env, driver)?,
            consent,
            artifacts: given(&cli.artifacts).map(PathBuf::from),
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
        })
    }
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
}
