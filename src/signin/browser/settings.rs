//! The browser driver's settings, from the environment (or `.env`): where Chromium is, and
//! Clerk's Testing Token settings; checked when the run starts.

use std::path::PathBuf;

use super::clerk;
pub use super::clerk::ClerkTesting;

/// Debian's `chromium` package.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The browser driver's settings, from the environment (or `.env`).
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    /// CHROMIUM, or [`DEFAULT_CHROMIUM`].
    pub chromium: PathBuf,
    /// CLERK_SECRET_KEY (and CLERK_API_URL): a Testing Token for Clerk's bot protection.
    pub clerk: Option<ClerkTesting>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "--sign-in-driver browser runs Chromium, and {path} {problem}: install Debian's chromium \
         package (apt-get install -y chromium) or set CHROMIUM to the browser's path"
    )]
    Chromium { path: String, problem: &'static str },
    #[error(
        "CLERK_API_URL {value:?} is not usable ({problem}); leave it unset for Clerk's own \
         Backend API ({default}); it is meant for tests against a stand-in",
        default = clerk::DEFAULT_API
    )]
    ClerkApiUrl { value: String, problem: String },
}

impl BrowserSettings {
    /// `require`: Chromium must be there now (`browser`); `auto` may never need it.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        require: bool,
    ) -> Result<Self, SettingsError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let chromium = PathBuf::from(set("CHROMIUM").unwrap_or_else(|| DEFAULT_CHROMIUM.into()));
        if require {
            check_executable(&chromium)?;
        }
        Ok(Self {
            chromium,
            clerk: ClerkTesting::from_env(&set)?,
        })
    }
}

#[cfg(unix)]
fn executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    true
}

pub(super) fn check_executable(path: &std::path::Path) -> Result<(), SettingsError> {
    let problem = match std::fs::metadata(path) {
        Err(_) => "does not exist",
        Ok(m) if !m.is_file() => "is not a file",
        Ok(m) if !executable(&m) => "is not executable",
        Ok(_) => return Ok(()),
    };
    Err(SettingsError::Chromium {
        path: path.display().to_string(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let s = BrowserSettings::from_env(&env(&[]), false).unwrap();
        assert_eq!(s.chromium, PathBuf::from(DEFAULT_CHROMIUM));
        assert!(s.clerk.is_none());
        let s = BrowserSettings::from_env(
            &env(&[("CHROMIUM", "/opt/c"), ("CLERK_SECRET_KEY", " sk_test_x ")]),
            false,
        )
        .unwrap();
        assert_eq!(s.chromium, PathBuf::from("/opt/c"));
        let clerk = s.clerk.unwrap();
        assert_eq!(clerk.secret_key.expose(), "sk_test_x");
        assert_eq!(clerk.api.as_str(), "https://api.clerk.com/");
        assert!(
            !format!("{clerk:?}").contains("sk_test_x"),
            "Debug hides the key"
        );

        let e = BrowserSettings::from_env(
            &env(&[
                ("CLERK_SECRET_KEY", "sk_test_x"),
                ("CLERK_API_URL", "http://api.example.com"),
            ]),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("plain http:// is refused"), "{e}");
        let e =
            BrowserSettings::from_env(&env(&[("CHROMIUM", "/nonexistent/c")]), true).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/c does not exist")
                && e.to_string().contains("apt-get install -y chromium"),
            "{e}"
        );
    }
}
