//! The only writer to stdout: one JSON document per result, pretty-printed, so that stdout
//! pipes straight into `jq`. Narration goes to stderr through the logger.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::sync::lock;

/// Cheap to clone: every clone writes to the same place, with the same secrets held.
#[derive(Clone)]
pub struct Output {
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    /// `--redact`: token values masked in everything printed.
    redact: bool,
    /// The tokens and secrets this run holds: with `--redact`, masked wherever they appear.
    known: Arc<Mutex<Vec<String>>>,
}

impl Output {
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    pub fn new(writer: Box<dyn Write + Send>) -> Self {
        Self {
            writer: Arc::new(Mutex::new(writer)),
            redact: false,
            known: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Masks token values in every document written (`--redact`).
    pub fn redacted(mut self, redact: bool) -> Self {
        self.redact = redact;
        self
    }

    /// Remembers a token or secret this run holds, so `--redact` masks it anywhere it is
    /// echoed (an API or userinfo that reflects the request).
    pub fn hold_secret(&self, secret: &str) {
        if self.redact && !secret.is_empty() {
            let mut known = lock(&self.known);
            if !known.iter().any(|k| k == secret) {
                known.push(secret.to_owned());
            }
        }
    }

    /// An output whose documents tests can read back.
    pub fn capture() -> (Self, Captured) {
        let captured = Captured::default();
        (Self::new(Box::new(captured.clone())), captured)
    }

    /// Writes text as it is (a completion script, a man page).
    pub fn text(&self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        if let Err(e) = w.write_all(bytes).and_then(|_| w.flush()) {
            log::debug!("stdout closed: {e}");
        }
    }

    /// Writes one JSON document and a newline.
    pub fn json(&self, value: &Value) {
        let shown;
        let value = if self.redact {
            let known = lock(&self.known).clone();
            shown = crate::redact::redact_json(value, &known);
            &shown
        } else {
            value
        };
        let text =
            serde_json::to_string_pretty(value).expect("a serde_json::Value always serialises");
        let mut w = lock(&self.writer);
        // A closed pipe (`| head`) is a normal end for a CLI, not an error to report.
        if let Err(e) = writeln!(w, "{text}").and_then(|_| w.flush()) {
            log::debug!("stdout closed: {e}");
        }
    }
}

/// A shared buffer standing in for stdout in tests.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Every JSON document written so far.
    pub fn documents(&self) -> Vec<Value> {
        let bytes = lock(&self.0).clone();
        serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("only JSON is written to the output")
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_round_trip_in_order() {
        let (out, cap) = Output::capture();
        out.json(&json!({"access_token": "a", "z": 1, "b": [1, 2]}));
        out.json(&json!({"error": "x"}));
        let docs = cap.documents();
        assert_eq!(docs.len(), 2);
        let keys: Vec<&String> = docs[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["access_token", "z", "b"], "field order is kept");
        assert_eq!(docs[1]["error"], "x");
    }
}
