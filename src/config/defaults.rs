//! What an unset setting means: an empty value counts as unset (`given`), and the default
//! each setting then falls back to.

pub const DEFAULT_SCOPES: &str = "openid profile email";
pub const DEFAULT_PORT: u16 = 3000;
pub const DEFAULT_CALLBACK_PATH: &str = "/oauth_callback";
pub(super) const DEFAULT_TIMEOUT_SECS: u64 = 300;
pub(super) const DEFAULT_HTTP_TIMEOUT_SECS: u64 = 30;

/// Empty values (`CLIENT_SECRET=` in .env) count as unset.
pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
