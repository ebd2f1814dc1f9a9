//! `/healthz`: 200 while the app serves (for scripts and the benchmark).

use actix_web::HttpResponse;

/// 200 once the app listens and the provider's endpoints are known (for CI scripts).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}
