//! A response that comes as an SSE stream: its events read until the response arrives, the
//! server's own requests answered on the way, and a stream that ends early resumed with GET
//! and `Last-Event-ID` (transports, "Resumability and Redelivery").

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use super::{SESSION_HEADER, Transport, VERSION_HEADER, content_type};
use crate::mcp::error::McpError;
use crate::mcp::jsonrpc::{self, Incoming};
use crate::mcp::sse;
use crate::redact::untrusted;

/// Resumptions of one request's SSE stream at most.
const MAX_RESUMES: usize = 3;
/// The reconnection time when the server names none (the standard leaves it to the client).
const DEFAULT_RETRY_MS: u64 = 1000;
/// The longest wait before resuming, whatever `retry` the server asks for.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

impl Transport<'_> {
    /// Reads events until the response to `id` arrives; answers the server's own requests on
    /// the way (`ping` with an empty result, anything else with "method not found"). A stream
    /// that ends first, after an event ID, is resumed with GET and `Last-Event-ID` once the
    /// server's `retry` time has passed (transports, "Resumability and Redelivery").
    pub(super) async fn read_stream(
        &self,
        method: &str,
        id: u64,
        response: &mut reqwest::Response,
    ) -> Result<Value, McpError> {
        let mut parser = sse::Parser::new();
        let mut read = 0usize;
        if let Some(message) = self.drain(method, response, &mut parser, &mut read).await? {
            return Ok(message);
        }
        for _ in 0..MAX_RESUMES {
            let Some(last) = parser.last_id().map(str::to_owned) else {
                break;
            };
            let wait = Duration::from_millis(parser.retry().unwrap_or(DEFAULT_RETRY_MS))
                .min(MAX_RETRY_WAIT);
            log::info!(
                "the SSE stream for {method} ended before its response: resuming it with GET in {} ms",
                wait.as_millis()
            );
            tokio::time::sleep(wait).await;
            let mut resumed = self.resume(method, &last).await?;
            parser = parser.resumed();
            if let Some(message) = self
                .drain(method, &mut resumed, &mut parser, &mut read)
                .await?
            {
                return Ok(message);
            }
        }
        Err(self.protocol(
            method,
            &format!(
                "the SSE stream ended before the response to id {id}{}",
                if parser.last_id().is_some() {
                    " and resuming it did not bring the response"
                } else {
                    ", without an event ID to resume it from"
                }
            ),
        ))
    }

    /// GET with `Last-Event-ID`: the stream that carries on where `last` left off.
    async fn resume(&self, method: &str, last: &str) -> Result<reqwest::Response, McpError> {
        let mut request = self
            .http
            .get(self.url.clone())
            .timeout(self.timeout)
            .header(ACCEPT, "text/event-stream");
        if let Ok(value) = HeaderValue::from_str(last) {
            request = request.header("last-event-id", value);
        }
        if let Some(session) = &self.session {
            request = request.header(SESSION_HEADER, session.clone());
        }
        if let Some(version) = &self.version {
            request = request.header(VERSION_HEADER, version.clone());
        }
        if let Some(token) = self.token {
            request = self.authorize(request, "GET", token);
        }
        let response = request.send().await.map_err(|e| self.failed(method, e))?;
        let response = self.accepted(method, response).await?;
        match content_type(response.headers()).as_deref() {
            Some("text/event-stream") => Ok(response),
            other => Err(self.protocol(
                method,
                &format!(
                    "the GET that resumes the SSE stream was answered with {}, not an event stream",
                    other.map_or("no content-type".to_owned(), |c| untrusted(c).to_string())
                ),
            )),
        }
    }

    /// Reads one stream to its end or to the response; `None`: it ended first.
    async fn drain(
        &self,
        method: &str,
        response: &mut reqwest::Response,
        parser: &mut sse::Parser,
        read: &mut usize,
    ) -> Result<Option<Value>, McpError> {
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(method, e))? {
            *read += chunk.len();
            if *read > self.max_body {
                return Err(self.too_large(method));
            }
            for event in parser.feed(&chunk) {
                if !event.is_message() {
                    continue;
                }
                let Ok(message) = serde_json::from_str::<Value>(&event.data) else {
                    return Err(self.protocol(
                        method,
                        &format!(
                            "an SSE event whose data is not JSON: {}",
                            self.first_line(event.data.as_bytes()).unwrap_or_default()
                        ),
                    ));
                };
                match jsonrpc::classify(&message) {
                    Ok(Incoming::Request {
                        id: asked,
                        method: theirs,
                    }) => {
                        // Its answer is a POST of its own; a failure shows up as no response.
                        let reply = jsonrpc::reply_to(&asked, &theirs);
                        let _ = self.post(&theirs, &reply).await;
                    }
                    Ok(Incoming::Notification) => {}
                    // The response (or something broken): `request` reads it.
                    _ => return Ok(Some(message)),
                }
            }
        }
        Ok(None)
    }
}
