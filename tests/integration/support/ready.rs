//! A test server started as a child process announces itself with one JSON line on stdout
//! (its issuer, port or URL). This waits for that line, keeps draining stdout (a closed pipe
//! would kill the server), and fails loudly, with the server's stderr, when it never comes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::time::Duration;

use serde_json::Value;

/// The child's first stdout line as JSON, and its stdin (kept open: the servers end when it
/// closes). `what` names the server in the failure, `stderr` is the file its stderr goes to.
pub fn wait_for_ready(
    child: &mut Child,
    what: &str,
    stderr: &Path,
    within: Duration,
) -> (Value, ChildStdin) {
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx.recv_timeout(within).unwrap_or_default();
    match serde_json::from_str(&line) {
        Ok(ready) => (ready, stdin),
        Err(_) => {
            let _ = child.kill();
            panic!(
                "{what} did not start in {} s; its stderr:\n{}",
                within.as_secs(),
                std::fs::read_to_string(stderr).unwrap_or_default()
            );
        }
    }
}
