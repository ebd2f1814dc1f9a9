//! A stand-in MCP server, only for what the SDK's server cannot be made to do: an older
//! revision with batches and pages, HTML, 406, a JSON-RPC error, an unknown protocol version,
//! and an SSE stream where the server asks something before it answers. Each mode is a path.

use std::sync::Mutex;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// One message POSTed, with its MCP headers.
#[derive(Debug)]
pub struct Seen {
    pub message: Value,
    pub session: Option<String>,
    pub version: Option<String>,
    pub authorization: Option<String>,
    pub dpop: Option<String>,
}

type Log = web::Data<Mutex<Vec<Seen>>>;

pub struct StandIn {
    pub base: String,
    pub seen: Log,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

const SESSION: &str = "standin-session-1";
/// The nonce `/dpop` gives.
pub const DPOP_NONCE: &str = "standin-dpop-nonce";

/// Whether a DPoP proof's claims carry `DPOP_NONCE`.
fn has_nonce(proof: Option<&str>) -> bool {
    use base64::Engine as _;
    proof
        .and_then(|p| p.split('.').nth(1))
        .and_then(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
        .is_some_and(|c| c["nonce"] == DPOP_NONCE)
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn init_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": {} },
        "serverInfo": { "name": "standin", "version": "0.0.1" }
    })
}

async fn mcp(req: HttpRequest, body: web::Bytes, seen: Log) -> HttpResponse {
    let mode = req.match_info().get("mode").unwrap_or_default().to_owned();
    let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().unwrap().push(Seen {
        message: message.clone(),
        session: header(&req, "mcp-session-id"),
        version: header(&req, "mcp-protocol-version"),
        authorization: header(&req, "authorization"),
        dpop: header(&req, "dpop"),
    });
    if mode == "dpop" && !has_nonce(header(&req, "dpop").as_deref()) {
        // RFC 9449 section 9: the resource server asks for a nonce.
        return HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#))
            .insert_header(("DPoP-Nonce", DPOP_NONCE))
            .finish();
    }
    let id = message["id"].clone();
    let method = message["method"].as_str().unwrap_or_default();
    if message.get("method").is_none() || id.is_null() {
        // A notification, or the client's reply to our request.
        return HttpResponse::Accepted().finish();
    }
    match (mode.as_str(), method) {
        ("html", _) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body("<!DOCTYPE html>\n<html><title>Welcome</title></html>"),
        ("picky", _) => HttpResponse::NotAcceptable().finish(),
        ("rpc-error", _) => HttpResponse::Ok().json(json!({
            "jsonrpc": "2.0", "id": id,
            "error": { "code": -32602, "message": "Unsupported protocol version", "data": { "supported": ["1999-01-01"] } }
        })),
        ("future", _) => HttpResponse::Ok().json(result(&id, init_result("2099-01-01"))),
        ("old", "initialize") => HttpResponse::Ok()
            .insert_header(("Mcp-Session-Id", SESSION))
            .json(result(&id, init_result("2025-03-26"))),
        ("old", "tools/list") => {
            // Two pages, each as a one-element batch (2025-03-26 allowed batches).
            let page = if message["params"]["cursor"] == "page-2" {
                json!({ "tools": [{ "name": "second" }] })
            } else {
                json!({ "tools": [{ "name": "first", "description": "one" }], "nextCursor": "page-2" })
            };
            HttpResponse::Ok().json(json!([result(&id, page)]))
        }
        ("asks-first", "initialize") => {
            let stream = [
                // A priming event (2025-11-25): an id and no data.
                "id: e0\ndata:\n\n".to_owned(),
                format!(
                    "event: message\nid: e1\ndata: {}\n\n",
                    json!({ "jsonrpc": "2.0", "id": "srv-1", "method": "ping" })
                ),
                format!(
                    "data: {}\n\n",
                    json!({ "jsonrpc": "2.0", "method": "notifications/message", "params": { "level": "info", "data": "hi" } })
                ),
                format!("data: {}\n\n", result(&id, init_result("2025-11-25"))),
            ]
            .concat();
            HttpResponse::Ok()
                .content_type("text/event-stream")
                .body(stream)
        }
        ("dpop", "initialize") => HttpResponse::Ok().json(result(
            &id,
            init_result(message["params"]["protocolVersion"].as_str().unwrap_or_default()),
        )),
        (_, "tools/list") => HttpResponse::Ok().json(result(&id, json!({ "tools": [] }))),
        (_, _) => HttpResponse::BadRequest().json(json!({ "error": "unexpected", "method": method })),
    }
}

/// `POST /{mode}`: `old`, `html`, `picky`, `rpc-error`, `future`, `asks-first`, `dpop` (asks
/// for a DPoP nonce until a proof carries it).
pub async fn start() -> StandIn {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = web::Data::new(Mutex::new(Vec::new()));
    let data = seen.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/{mode}", web::post().to(mcp))
            .route("/{mode}", web::delete().to(HttpResponse::MethodNotAllowed))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen");
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    StandIn { base, seen, handle }
}
