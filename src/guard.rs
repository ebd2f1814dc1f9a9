//! Two refusals in front of every route, for a local app that shows tokens:
//! - a `Host` that is not this app's (DNS rebinding: a web page whose name resolves to
//!   127.0.0.1 would otherwise read the token pages as its own origin);
//! - a cross-site request to an action that has effects (`/refresh`, `/revoke`, ...), which
//!   another site could otherwise trigger with an `<img>` (CSRF). The callback is cross-site
//!   by nature and stays open.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// Routes with effects, refused when a browser says the request came from another site.
const ACTIONS: &[&str] = &["/refresh", "/userinfo", "/tokeninfo", "/revoke", "/api"];

/// The hosts this app answers to: loopback names, and the redirect URI's host. `None` when
/// HOST opened the app beyond loopback, where any name may be in use.
pub fn allowed_hosts(loopback_only: bool, redirect_host: Option<&str>) -> Option<Vec<String>> {
    if !loopback_only {
        return None;
    }
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .map(str::to_owned)
        .to_vec();
    hosts.extend(redirect_host.map(str::to_ascii_lowercase));
    Some(hosts)
}

/// Why a request is refused, if it is.
pub fn refusal(
    allowed: Option<&[String]>,
    host: Option<&str>,
    fetch_site: Option<&str>,
    path: &str,
) -> Option<String> {
    if let Some(allowed) = allowed {
        let name = host.map(host_name).unwrap_or_default();
        if !allowed.contains(&name) {
            return Some(format!(
                "Host {:?} is not this app's: it answers to {} only (DNS-rebinding protection). \
                 Open it as http://localhost:<PORT>/, or set HOST to listen beyond loopback.",
                host.unwrap_or(""),
                allowed.join(", ")
            ));
        }
    }
    if fetch_site == Some("cross-site") && ACTIONS.contains(&path) {
        return Some(format!(
            "{path} refused: the request came from another site (CSRF protection)."
        ));
    }
    None
}

/// The host name of a `Host` header, lowercase, without the port.
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if host.starts_with('[') {
        return host
            .split_inclusive(']')
            .next()
            .unwrap_or_default()
            .to_owned();
    }
    host.split(':').next().unwrap_or_default().to_owned()
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.allowed_hosts.clone());
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(why) = refusal(
        allowed.as_deref(),
        header("host"),
        header("sec-fetch-site"),
        req.path(),
    ) {
        log::warn!("refused {} {}: {why}", req.method(), req.path());
        let response = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body(why);
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_sites() {
        let allowed = allowed_hosts(true, Some("LocalHost")).unwrap();
        let ok = |host: &str| refusal(Some(&allowed), Some(host), None, "/").is_none();
        assert!(
            ok("localhost:3000") && ok("127.0.0.1:3000") && ok("[::1]:3000") && ok("LOCALHOST")
        );
        assert!(!ok("evil.example:3000") && !ok("localhost.evil.example") && !ok(""));
        assert!(
            refusal(Some(&allowed), None, None, "/").is_some(),
            "no Host, no answer"
        );
        assert!(
            refusal(None, Some("my-laptop.lan:3000"), None, "/").is_none(),
            "HOST=0.0.0.0"
        );
        assert!(refusal(None, None, Some("cross-site"), "/revoke").is_some());
        assert!(refusal(None, None, Some("cross-site"), "/oauth_callback").is_none());
        assert!(refusal(None, None, Some("same-origin"), "/revoke").is_none());
        assert!(
            refusal(None, None, None, "/revoke").is_none(),
            "curl sends no Sec-Fetch-Site"
        );
    }
}
