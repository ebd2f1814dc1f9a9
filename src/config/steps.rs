//! `--grant` and `--then`: which grant runs, and the follow-up steps it allows (with `--once`,
//! which the grants other than `code` imply; `--report` and `--audit` need it too).

use super::defaults::given;
use super::error::ConfigError;
use crate::cli::Cli;
use crate::oauth::{Grant, Step};

/// OAUTH_GRANT; `code` when unset.
pub(super) fn grant(cli: &Cli) -> Result<Grant, ConfigError> {
    given(&cli.grant).map_or(Ok(Grant::Code), |g| {
        Grant::parse(g).ok_or_else(|| ConfigError::Grant(g.to_owned()))
    })
}

/// `--then` steps; they, and `--report`, only make sense with `--once` (which the grants
/// other than `code` imply), and only those the grant's tokens allow.
pub(super) fn then_steps(cli: &Cli, grant: Grant) -> Result<Vec<Step>, ConfigError> {
    let then = cli
        .then
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| Step::parse(w).ok_or_else(|| ConfigError::Then(w.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let once = cli.once || !grant.needs_callback();
    if !then.is_empty() && !once {
        return Err(ConfigError::NeedsOnce("--then"));
    }
    if let Some((step, why)) = then
        .iter()
        .find_map(|s| grant.refuses(*s).map(|why| (s.name(), why)))
    {
        return Err(ConfigError::StepNotForGrant {
            step,
            grant: grant.name(),
            why,
        });
    }
    if cli.report && !once {
        return Err(ConfigError::NeedsOnce("--report"));
    }
    if cli.audit && !cli.once {
        return Err(ConfigError::NeedsOnce("--audit"));
    }
    Ok(then)
}

#[cfg(test)]
mod tests {
    use super::super::tests::cli;
    use super::super::{Config, ConfigError};
    use crate::oauth::Grant;

    #[test]
    fn then_steps_need_once() {
        let mut raw = cli();
        raw.then = vec![
            "refresh".into(),
            "userinfo".into(),
            "tokeninfo:access".into(),
        ];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::NeedsOnce("--then"))
        ));
        raw.once = true;
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.then.len(), 3);
        raw.then.push("dance".into());
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(msg.contains("dance") && msg.contains("userinfo"), "{msg}");
    }

    #[test]
    fn grants_imply_once_and_refuse_steps_their_tokens_cannot_take() {
        let mut raw = cli();
        assert_eq!(Config::from_cli(&raw).unwrap().grant, Grant::Code);
        raw.grant = Some("client_credentials".into());
        raw.then = vec!["api".into(), "tokeninfo:access".into()];
        let c = Config::from_cli(&raw).unwrap();
        assert!(c.once && !c.open_browser);
        assert!(c.scopes.is_empty(), "no openid by default without a user");
        raw.then.push("refresh".into());
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(
            msg.contains("--then refresh") && msg.contains("4.4.3"),
            "{msg}"
        );
        raw.then = vec!["userinfo".into()];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::StepNotForGrant { .. })
        ));
        raw.then.clear();
        raw.scopes = Some("api:read".into());
        assert_eq!(Config::from_cli(&raw).unwrap().scope_string(), "api:read");
        raw.grant = Some("device".into());
        raw.then = vec!["refresh".into(), "userinfo".into()];
        let c = Config::from_cli(&raw).unwrap();
        assert!(c.once && c.grant == Grant::Device);
        raw.grant = Some("implicit".into());
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(msg.starts_with("OAUTH_GRANT") && msg.contains("client_credentials"));
    }
}
