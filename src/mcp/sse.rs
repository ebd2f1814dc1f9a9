//! Server-Sent Events, as the Streamable HTTP transport sends them in answer to a POST: the
//! event-stream grammar of the HTML Living Standard (section 9.2.6, "Interpreting an event
//! stream"), fed in chunks as they arrive. Pure: no I/O, never panics.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field; `None` means the default type, "message".
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`. Never empty: an event without data is not
    /// dispatched (MCP 2025-11-25 servers send such a "priming" event with only an `id`).
    pub data: String,
    /// The last event ID seen on the stream so far (`id:`), for a later `Last-Event-ID`.
    pub id: Option<String>,
}

impl Event {
    /// A JSON-RPC message travels in an event of the default type (or one named "message").
    pub fn is_message(&self) -> bool {
        self.event.as_deref().is_none_or(|e| e == "message")
    }
}

/// Reads an event stream in chunks; bytes of an unfinished line wait for the next chunk.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
    /// `retry:`, the reconnection time in milliseconds the server asks for.
    retry: Option<u64>,
    /// The previous chunk ended on CR: an LF opening this one ends nothing more.
    after_cr: bool,
    started: bool,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser for the stream that resumes this one: the last event ID and the
    /// reconnection time carry over.
    pub fn resumed(&self) -> Self {
        Self {
            last_id: self.last_id.clone(),
            retry: self.retry,
            ..Self::default()
        }
    }

    /// The last event ID seen (`id:`): the stream can be resumed with `Last-Event-ID`.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The reconnection time the server asked for (`retry:`), in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Every event completed by `chunk`. An event still open when the stream ends is
    /// discarded, as the standard says.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &b in chunk {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    events.extend(self.line_done(&line));
                }
                _ => self.line.push(b),
            }
        }
        events
    }

    fn line_done(&mut self, raw: &[u8]) -> Option<Event> {
        let text = String::from_utf8_lossy(raw);
        let mut line: &str = &text;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // Only ASCII digits, as the standard says; anything else is ignored.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        let data = std::mem::take(&mut self.data);
        if data.is_empty() {
            return None;
        }
        Some(Event {
            event,
            data,
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<Event> {
        let mut p = Parser::new();
        chunks.iter().flat_map(|c| p.feed(c)).collect()
    }

    #[test]
    fn the_last_id_and_the_retry_time_carry_over_to_a_resumed_stream() {
        let mut p = Parser::new();
        assert!(p.feed(b"id: event-1\nretry: 500\ndata: \n\n").is_empty());
        assert!(p.feed(b"retry: soon\n\n").is_empty());
        let resumed = p.resumed();
        assert_eq!(
            (resumed.last_id(), resumed.retry()),
            (Some("event-1"), Some(500))
        );
    }

    #[test]
    fn events_as_the_typescript_sdk_sends_them() {
        let events = all(&[
            b"event: message\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
        ]);
        assert_eq!(events.len(), 1);
        assert!(events[0].is_message());
        assert_eq!(events[0].data, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!(events[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn lines_split_anywhere_across_chunks_and_any_line_ending() {
        let text = b"data: {\"a\":\r\ndata: 1}\r\n\r\n: comment\rdata:x\r\rdata:y\n\n";
        let whole = all(&[text]);
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(all(&[a, b]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(all(&bytes), whole);
        let data: Vec<&str> = whole.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["{\"a\":\n1}", "x", "y"]);
    }

    #[test]
    fn priming_events_comments_and_unfinished_events_dispatch_nothing() {
        // MCP 2025-11-25: an event ID with empty data first, so the client can resume.
        let events = all(&[b"id: abc\ndata:\n\n", b": keep-alive\n\n", b"data: late"]);
        assert_eq!(events, vec![]);
        let events = all(&[b"id: abc\ndata:\n\ndata: x\n\n"]);
        assert_eq!(events[0].id.as_deref(), Some("abc"), "the last ID is kept");
    }

    #[test]
    fn event_types_fields_without_colon_and_the_bom() {
        let events = all(&[b"\xef\xbb\xbfevent: ping\ndata: 1\n\ndata\ndata: 2\n\n"]);
        assert_eq!(events.len(), 2);
        assert!(!events[0].is_message());
        assert_eq!(events[0].event.as_deref(), Some("ping"));
        assert!(events[1].is_message(), "the type does not carry over");
        assert_eq!(events[1].data, "\n2");
    }

    #[test]
    fn garbage_never_panics() {
        let samples: &[&[u8]] = &[
            b"\xff\xfe\r\n\n",
            b"::::\n\n",
            b"data\0: x\n\n",
            b"\r\r\r\n\n",
        ];
        for s in samples {
            let _ = all(&[s]);
        }
    }
}
