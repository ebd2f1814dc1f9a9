//! `--sign-in-driver`: which driver signs in, parsed once at startup with the settings the
//! browser driver reads from the environment (or `.env`), so a wrong one stops the run
//! before anything starts.

#[cfg(feature = "browser")]
use super::browser::{BrowserSettings, SettingsError};

/// Which driver signs in.
#[derive(Debug, Clone)]
pub enum Driver {
    /// Plain HTTP: the forms in the HTML the provider sends.
    Http,
    /// Headless Chromium: pages that JavaScript draws.
    #[cfg(feature = "browser")]
    Browser(BrowserSettings),
    /// http first; the browser only when the http driver found no usable form (never after
    /// the provider refused the credentials).
    #[cfg(feature = "browser")]
    Auto(BrowserSettings),
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(
        "--sign-in-driver (OAUTH_SIGN_IN_DRIVER) {0:?} is not a driver: use http, browser or auto"
    )]
    Unknown(String),
    #[error(
        "--sign-in-driver browser: this build has no browser driver (the cargo feature `browser` \
         is off). {} Or use --sign-in-driver http, which fills in the provider's HTML forms",
        super::error::GET_BROWSER
    )]
    NotBuilt,
    #[cfg(feature = "browser")]
    #[error(transparent)]
    Browser(#[from] SettingsError),
}

impl Driver {
    /// `--sign-in-driver` as given (`None`: auto), and the environment for the browser's
    /// settings (CHROMIUM, CLERK_SECRET_KEY, CLERK_API_URL).
    pub fn from_setting(
        word: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, DriverError> {
        let word = word.map(|w| w.trim().to_ascii_lowercase());
        match word.as_deref() {
            Some("http") => Ok(Self::Http),
            #[cfg(feature = "browser")]
            Some("browser") => Ok(Self::Browser(BrowserSettings::from_env(env, true)?)),
            #[cfg(feature = "browser")]
            None | Some("auto") => Ok(Self::Auto(BrowserSettings::from_env(env, false)?)),
            #[cfg(not(feature = "browser"))]
            Some("browser") => Err(DriverError::NotBuilt),
            // Without the browser driver, auto is http; its no-form error says how to get it.
            #[cfg(not(feature = "browser"))]
            None | Some("auto") => {
                let _ = env;
                Ok(Self::Http)
            }
            Some(other) => Err(DriverError::Unknown(other.to_owned())),
        }
    }

    /// For `--print-config`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Http => "http",
            #[cfg(feature = "browser")]
            Self::Browser(_) => "browser",
            #[cfg(feature = "browser")]
            Self::Auto(_) => "auto",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn drivers_by_name() {
        assert_eq!(
            Driver::from_setting(Some("HTTP"), &none).unwrap().name(),
            "http"
        );
        assert!(matches!(
            Driver::from_setting(Some("selenium"), &none),
            Err(DriverError::Unknown(w)) if w == "selenium"
        ));
        let auto = Driver::from_setting(None, &none).unwrap();
        if cfg!(feature = "browser") {
            assert_eq!(auto.name(), "auto");
        } else {
            assert_eq!(auto.name(), "http");
            let e = Driver::from_setting(Some("browser"), &none).unwrap_err();
            assert!(e.to_string().contains("--features browser"), "{e}");
        }
    }
}
