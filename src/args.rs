//! The command line the tool parses: the process's arguments with the options of the
//! `OAUTH_TEST_CLIENT_ARGS` setting put in front, split with shell-word rules (for CI systems
//! that pass options as one string, like the GitHub Action's `args` input).

use std::ffi::OsString;

/// The setting that holds more options, as one shell-quoted string.
pub const SETTING: &str = "OAUTH_TEST_CLIENT_ARGS";

/// `OAUTH_TEST_CLIENT_ARGS` could not be split into words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgsError {
    /// The value is not shown: it may hold a secret (`--client-secret ...`).
    #[error(
        "{SETTING} has an unclosed quote or ends in a backslash; quote options as a shell would, e.g. {SETTING}='--scopes \"openid email\"'"
    )]
    Unbalanced,
    #[error("{SETTING} is not valid UTF-8; set it to options in plain text")]
    NotUnicode,
}

/// The arguments to parse: the program name, the words of `extra` (the setting's value, when
/// set), then the rest of `argv`, so options typed on the command line come after and a
/// subcommand still ends the line.
pub fn combined(
    argv: impl IntoIterator<Item = OsString>,
    extra: Option<OsString>,
) -> Result<Vec<OsString>, ArgsError> {
    let mut argv = argv.into_iter();
    let mut all: Vec<OsString> = argv.next().into_iter().collect();
    if let Some(extra) = extra {
        let text = extra.into_string().map_err(|_| ArgsError::NotUnicode)?;
        let words = shlex::split(&text).ok_or(ArgsError::Unbalanced)?;
        all.extend(words.into_iter().map(OsString::from));
    }
    all.extend(argv);
    Ok(all)
}

/// [`combined`] over this process's arguments and environment.
pub fn from_env() -> Result<Vec<OsString>, ArgsError> {
    combined(std::env::args_os(), std::env::var_os(SETTING))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(argv: &[&str], extra: Option<&str>) -> Result<Vec<String>, ArgsError> {
        combined(argv.iter().map(OsString::from), extra.map(OsString::from))
            .map(|all| all.into_iter().map(|w| w.into_string().unwrap()).collect())
    }

    #[test]
    fn a_quoted_value_stays_one_word() {
        assert_eq!(
            words(
                &["tool", "--once"],
                Some(r#"--scopes "openid email" --param 'a=b c'"#)
            ),
            Ok(vec![
                "tool".into(),
                "--scopes".into(),
                "openid email".into(),
                "--param".into(),
                "a=b c".into(),
                "--once".into(),
            ])
        );
    }

    #[test]
    fn backslashes_and_empty_values_follow_shell_rules() {
        assert_eq!(
            words(&["tool"], Some(r#"--x a\ b --y "" "#)),
            Ok(vec![
                "tool".into(),
                "--x".into(),
                "a b".into(),
                "--y".into(),
                String::new()
            ])
        );
    }

    #[test]
    fn unset_or_blank_adds_nothing() {
        assert_eq!(
            words(&["tool", "-h"], None),
            Ok(vec!["tool".into(), "-h".into()])
        );
        assert_eq!(words(&["tool"], Some("  ")), Ok(vec!["tool".into()]));
    }

    #[test]
    fn an_unclosed_quote_is_an_error_that_does_not_show_the_value() {
        let e = words(&["tool"], Some(r#"--client-secret "s3cret"#)).unwrap_err();
        assert_eq!(e, ArgsError::Unbalanced);
        assert!(!e.to_string().contains("s3cret"));
        assert!(e.to_string().contains(SETTING));
        assert_eq!(
            words(&["tool"], Some("--x a\\")),
            Err(ArgsError::Unbalanced)
        );
    }
}
