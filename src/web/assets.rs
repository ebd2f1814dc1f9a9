//! The one static script: compiled into the binary, served with a long cache. Pages link it
//! as `/assets/app.js?v=<hash of its text>`, so a new build is fetched anew.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use sha2::{Digest, Sha256};

/// Progressive enhancements (copy buttons, expiry countdown); every page works without it.
pub const APP_JS: &str = include_str!("../../assets/app.js");

/// The URL pages use for the script, versioned by its content.
pub fn app_js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let digest = Sha256::digest(APP_JS.as_bytes());
        let version: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("/assets/app.js?v={version}")
    })
}

pub async fn app_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        // Set here, so the default `no-store` (for pages with tokens) does not apply.
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(APP_JS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_url_is_versioned_by_content() {
        let url = app_js_url();
        assert!(url.starts_with("/assets/app.js?v="), "{url}");
        assert_eq!(url.len(), "/assets/app.js?v=".len() + 12);
        assert!(APP_JS.contains("data-expires-at"));
    }
}
