//! Refusals for a local app that shows tokens:
//! - a `Host` that is not this app's (DNS rebinding: a web page whose name resolves to this
//!   machine would otherwise read the token pages as its own origin), whatever the listen
//!   address;
//! - a request from another site to an action that has effects (`/refresh`, `/revoke`, ...),
//!   which another site could otherwise trigger with an `<img>` (CSRF). This check sits on the
//!   matched routes themselves, so `/%72efresh` (which the router decodes to `/refresh`) meets
//!   it too. The callback is cross-site by nature and stays open.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::redact::untrusted;
use crate::state::AppState;

/// The host names this app answers to: loopback names, the redirect URI's host, the listen
/// address when it is a specific one, and the names given in ALLOWED_HOSTS.
pub fn allowed_hosts(
    listen: &[std::net::IpAddr],
    redirect_host: Option<&str>,
    given: &[String],
) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .map(str::to_owned)
        .to_vec();
    hosts.extend(redirect_host.map(str::to_ascii_lowercase));
    hosts.extend(
        listen
            .iter()
            .filter(|ip| !ip.is_unspecified() && !ip.is_loopback())
            .map(|ip| match ip {
                std::net::IpAddr::V4(v4) => v4.to_string(),
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            }),
    );
    hosts.extend(given.iter().cloned());
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Why a `Host` header is refused, if it is. Allocates nothing when it is accepted (every
/// request passes here).
pub fn host_refusal(allowed: &[String], host: Option<&str>) -> Option<String> {
    if host
        .and_then(host_name)
        .is_some_and(|name| allowed.iter().any(|a| a.eq_ignore_ascii_case(name)))
    {
        return None;
    }
    Some(format!(
        "Host {:?} is not this app's: it answers to {} only (DNS-rebinding protection). \
         Open it as http://localhost:<PORT>/, or add the name to ALLOWED_HOSTS.",
        host.unwrap_or(""),
        allowed.join(", ")
    ))
}

/// Why a request is not from this app's own pages or a tool such as curl, if it is not:
/// `Sec-Fetch-Site` of `cross-site` or `same-site` (another port or subdomain is another
/// site's code), or an `Origin` that is not this app's.
pub fn foreign_origin(headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("sec-fetch-site") {
        // none: typed in the address bar or opened from a bookmark; absent: curl or a test.
        None | Some("same-origin") | Some("none") => {}
        Some(site) => {
            return Some(format!(
                "the request came from another site (Sec-Fetch-Site: {})",
                untrusted(site)
            ));
        }
    }
    let origin = headers.get("origin").map(|v| v.to_str().unwrap_or("?"))?;
    let own = header("host").map(|h| format!("http://{}", h.to_ascii_lowercase()));
    if own.as_deref() == Some(origin.to_ascii_lowercase().as_str()) {
        return None;
    }
    Some(format!(
        "the request came from another origin (Origin: {})",
        untrusted(origin)
    ))
}

/// The host name of a `Host` header, as sent (compare it ignoring case), without the port.
pub fn host_name(host: &str) -> Option<&str> {
    host_and_port(host).map(|(name, _)| name)
}

/// A `Host` header's name and port: `name`, `name:port`, `[v6]` or `[v6]:port`, the port in
/// digits (`None` when absent or out of range); `None` when it is not one of those (user
/// info, a path, an empty name). Any name it returns is then compared whole with the
/// allowed names, so only a header naming one of them exactly gets through.
pub fn host_and_port(host: &str) -> Option<(&str, Option<u16>)> {
    let host = host.trim();
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        host.split_at(end + 1)
    } else {
        host.split_at(host.find(':').unwrap_or(host.len()))
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 5 => {
            digits.parse().ok()
        }
        _ => return None,
    };
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_[]:".contains(&b));
    name_ok.then_some((name, port))
}

/// In front of every route: the `Host` check.
pub async fn hosts(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let refusal = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| host_refusal(&s.allowed_hosts, header(req.headers(), "host")));
    match refusal {
        Some(why) => Ok(refuse(req, why).map_into_right_body()),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// On each action route: only this app's own pages (or curl) may trigger it.
pub async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match foreign_origin(req.headers()) {
        Some(why) => {
            let why = format!(
                "{} refused: {why} (CSRF protection). Use the buttons on this app's own pages.",
                req.match_pattern().unwrap_or_else(|| req.path().to_owned())
            );
            Ok(refuse(req, why).map_into_right_body())
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refuse(req: ServiceRequest, why: String) -> ServiceResponse {
    log::warn!(
        "refused {} {}: {}",
        req.method(),
        untrusted(req.path()),
        untrusted(&why)
    );
    let response = HttpResponse::Forbidden()
        .content_type("text/plain; charset=utf-8")
        .body(why);
    req.into_response(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use std::net::{IpAddr, Ipv4Addr};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn hosts() {
        let allowed = allowed_hosts(&[], Some("LocalHost"), &[]);
        let ok = |host: &str| host_refusal(&allowed, Some(host)).is_none();
        assert!(
            ok("localhost:3000") && ok("127.0.0.1:3000") && ok("[::1]:3000") && ok("LOCALHOST")
        );
        assert!(!ok("evil.example:3000") && !ok("localhost.evil.example") && !ok(""));
        assert!(!ok("user@localhost:3000"));
        assert!(host_refusal(&allowed, None).is_some(), "no Host, no answer");
        for odd in [
            "localhost:3000/x",
            "localhost:30a0",
            "localhost:3000:1",
            "[::1",
            "[::1]x",
            ":3000",
            "local host",
            "localhost%00",
        ] {
            assert!(!ok(odd), "{odd}");
        }
        assert!(ok(" localhost:3000 ") && ok("localhost:") && ok("[::1]"));
    }

    #[test]
    fn host_names_agree_with_http_s_authority() {
        // The parser this replaced: every header it accepted keeps its name.
        for host in [
            "localhost",
            "localhost:3000",
            "LocalHost:80",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[::1]",
            "my-laptop.lan:8080",
            "localhost:",
        ] {
            let authority: http::uri::Authority = host.parse().unwrap();
            assert_eq!(
                host_and_port(host),
                Some((authority.host(), authority.port_u16())),
                "{host}"
            );
        }
    }

    #[test]
    fn every_listen_address_keeps_the_host_check() {
        // HOST=0.0.0.0 once turned the check off.
        let any = [IpAddr::V4(Ipv4Addr::UNSPECIFIED)];
        let allowed = allowed_hosts(&any, Some("localhost"), &[]);
        assert!(host_refusal(&allowed, Some("rebound.evil.example:3000")).is_some());
        assert!(host_refusal(&allowed, Some("my-laptop.lan:3000")).is_some());
        let allowed = allowed_hosts(&any, Some("localhost"), &["my-laptop.lan".into()]);
        assert!(host_refusal(&allowed, Some("my-laptop.lan:3000")).is_none());
        let lan = [IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20))];
        let allowed = allowed_hosts(&lan, None, &[]);
        assert!(host_refusal(&allowed, Some("192.168.1.20:3000")).is_none());
    }

    #[test]
    fn sites_and_origins() {
        let foreign = |pairs: &[(&'static str, &str)]| foreign_origin(&headers(pairs)).is_some();
        assert!(foreign(&[("sec-fetch-site", "cross-site")]));
        assert!(foreign(&[("sec-fetch-site", "same-site")]));
        assert!(!foreign(&[("sec-fetch-site", "same-origin")]));
        assert!(!foreign(&[("sec-fetch-site", "none")]));
        assert!(!foreign(&[]), "curl sends no Sec-Fetch-Site");
        assert!(foreign(&[
            ("host", "localhost:3000"),
            ("origin", "http://evil.example")
        ]));
        assert!(foreign(&[("host", "localhost:3000"), ("origin", "null")]));
        assert!(foreign(&[
            ("host", "localhost:3000"),
            ("origin", "http://localhost:4000")
        ]));
        assert!(!foreign(&[
            ("host", "localhost:3000"),
            ("origin", "http://localhost:3000")
        ]));
    }
}
