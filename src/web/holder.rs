//! Who may see and use the tokens: only the browser that completed the sign-in. Its callback
//! answer sets a fresh random cookie (a new one per sign-in, so a cookie planted before the
//! sign-in is worth nothing); `/` shows the tokens, and the action routes use them, only for
//! a request that carries it. Any other local process or user sees the configuration alone.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use oauth2::CsrfToken;

use crate::state::AppState;

/// The cookie that holds the signed-in browser's key.
pub const SESSION_COOKIE: &str = "oauth_test_client_session";

/// A fresh key for the browser whose callback just gave tokens, kept in `state` (replacing
/// any earlier browser's), and its cookie: for this app only, gone when the browser closes.
pub fn hand_over(state: &AppState) -> Cookie<'static> {
    let key = CsrfToken::new_random_len(32).into_secret();
    state.hand_to(key.clone());
    Cookie::build(SESSION_COOKIE, key)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish()
}

/// True when this request comes from the browser that completed the latest sign-in.
pub fn holds_tokens(req: &HttpRequest, state: &AppState) -> bool {
    req.cookie(SESSION_COOKIE)
        .is_some_and(|c| state.is_holder(c.value()))
}
