//! The callback query parser: never panics; accepted queries respect the size bound and
//! carry no repeated parameter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_test_client::web::CallbackParams;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    if CallbackParams::parse(query).is_ok() {
        assert!(query.len() <= oauth_test_client::web::MAX_QUERY_BYTES);
    }
});
