//! `WWW-Authenticate` and protected-resource metadata (RFC 9110 section 11.6.1, RFC 9728):
//! never panic, for any header lines, status and body; what is accepted obeys the grammar,
//! and an authorization server is only taken from metadata about the resource asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_test_client::oauth::Issuer;
use oauth_test_client::provider::challenge::{self, Bearer, MAX_HEADER_BYTES};
use oauth_test_client::provider::resource::{read_challenge, read_metadata, well_known_url};
use oauth_test_client::oauth::Verdict;
use url::Url;

fuzz_target!(|input: (Vec<&str>, u16, &[u8])| {
    let (lines, status, body) = input;
    if let Ok(challenges) = challenge::parse(lines.iter().copied()) {
        assert!(lines.iter().map(|l| l.len()).sum::<usize>() <= MAX_HEADER_BYTES);
        for c in &challenges {
            assert!(!c.scheme.is_empty() && c.scheme.bytes().all(|b| b.is_ascii_graphic()));
            assert!(c.token68.is_none() || c.params.is_empty());
            for (i, (name, _)) in c.params.iter().enumerate() {
                assert_eq!(*name, name.to_ascii_lowercase());
                assert!(c.params[..i].iter().all(|(n, _)| n != name), "unique names");
            }
        }
        if let Some(b) = Bearer::find(&challenges) {
            let _ = b.to_string();
        }
    }
    let owned: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let resource = Url::parse("https://api.example.com/mcp").expect("a fixed URL");
    let metadata_url = read_challenge(&owned)
        .ok()
        .and_then(|b| b.resource_metadata)
        .unwrap_or_else(|| well_known_url(&resource));
    let read = read_metadata(&resource, &metadata_url, status, body);
    match &read.result {
        Ok(found) => {
            assert_eq!(status, 200);
            assert!(Issuer::parse(&found.authorization_server).is_ok());
            assert!(
                found.resource == resource.as_str()
                    || found.resource == resource.as_str().trim_end_matches('/')
            );
            assert!(read.checks.iter().all(|c| c.result == Verdict::Pass));
        }
        Err(e) => {
            let _ = e.to_string();
            assert_eq!(read.checks.last().map(|c| c.result), Some(Verdict::Fail));
        }
    }
});
