//! The token-response normaliser: never panics, for any status, content type and body; what
//! it hands on is JSON whenever it read the body as an object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_test_client::provider::quirks::normalize;

fuzz_target!(|input: (u16, bool, &[u8])| {
    let (status, form, body) = input;
    let content_type = if form { "application/x-www-form-urlencoded" } else { "application/json" };
    let n = normalize(status, Some(content_type), body);
    if n.raw.is_some() {
        assert!(serde_json_ok(&n.body));
    }
});

fn serde_json_ok(body: &[u8]) -> bool {
    // The normaliser only ever emits a JSON object once it read one.
    body.first() == Some(&b'{') && body.last() == Some(&b'}')
}
