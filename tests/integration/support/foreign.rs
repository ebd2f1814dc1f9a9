//! A "foreign" origin for the credential-origin tests: a listener on another port that records
//! every request it receives (method, target, headers, body), as an attacker's server would.
//! `GET /login?return=<url>` serves a sign-in form that posts back to `/login`, whose answer
//! redirects to `return` (a federated login's round trip); anything else gets a plain page.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

pub struct Foreign {
    /// `http://localhost:<port>`: the app's own host, another port.
    pub base: String,
    seen: Arc<Mutex<Vec<String>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Foreign {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Foreign {
    /// Every request received so far, each as text.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    seen: web::Data<Arc<Mutex<Vec<String>>>>,
) -> HttpResponse {
    let mut record = format!("{} {}\n", req.method(), req.uri());
    for (name, value) in req.headers() {
        record.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    record.push('\n');
    record.push_str(&String::from_utf8_lossy(&body));
    seen.lock().unwrap().push(record);
    let field = |text: &str, name: &str| {
        url::form_urlencoded::parse(text.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let html = |title: &str, body: String| {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"
            ))
    };
    match (req.method().as_str(), req.path()) {
        ("GET", "/login") => {
            let back = field(req.query_string(), "return").unwrap_or_default();
            html(
                "Sign in",
                format!(
                    r#"<form method="post" action="/login"><input type="hidden" name="return" value="{}">
<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>"#,
                    esc(&back)
                ),
            )
        }
        ("POST", "/login") => match field(&String::from_utf8_lossy(&body), "return") {
            Some(back) if !back.is_empty() => HttpResponse::SeeOther()
                .insert_header(("Location", back))
                .finish(),
            _ => html("Signed in", "<p>Signed in.</p>".into()),
        },
        _ => html("Received", "<p>Received.</p>".into()),
    }
}

/// Starts the listener on its own thread (the tests block on the binary meanwhile).
pub fn start() -> Foreign {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = seen.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let data = web::Data::new(shared);
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(data.clone())
                    .default_service(web::to(answer))
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind");
            let port = server.addrs()[0].port();
            let server = server.run();
            tx.send((port, server.handle())).expect("started");
            let _ = server.await;
        });
    });
    let (port, handle) = rx.recv().expect("the foreign listener started");
    Foreign {
        base: format!("http://localhost:{port}"),
        seen,
        handle,
    }
}
