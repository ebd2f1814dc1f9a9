//! The Clerk publishable-key decoder: any input is refused or decodes to a host that
//! round-trips into an https issuer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_test_client::clerk::PublishableKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(key) = PublishableKey::parse(text) {
        assert!(!key.frontend_api.is_empty());
        assert!(key.issuer().as_str().starts_with("https://"));
        assert!(!key.frontend_api.contains(['/', '?', '#', '@', '$']));
    }
});
