//! What may reach stderr as a log line: env_logger as `RUST_LOG` says, behind a cap. Only this
//! crate logs below `info`; every other crate (tungstenite and chromiumoxide, which log the
//! DevTools traffic with what is typed into a page; hyper, h2, reqwest, rustls, cookie_store,
//! actix-http, html5ever, which log wire data, headers or page text) is held at `info`,
//! whatever `RUST_LOG` asks for, so no setting makes a dependency print a password, a code,
//! a cookie, a token or a key.

use log::{Level, Log, Metadata, Record};

/// The most detail any crate but this one may log.
pub const OTHER_CRATES_MAX: Level = Level::Info;

/// This crate's log target, and the prefix of its modules' targets.
const OWN: &str = "oauth_test_client";

/// Starts logging: `RUST_LOG`, or this crate's `info` lines when it is not set; capped.
pub fn init() {
    let inner = env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("oauth_test_client=info"),
    )
    .build();
    // RUST_LOG's most detailed level stays the global one: it may be this crate's.
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Capped { inner })).is_ok() {
        log::set_max_level(max);
    }
}

/// True when a line of `level` from `target` may be written.
pub fn allowed(target: &str, level: Level) -> bool {
    level <= OTHER_CRATES_MAX || is_own(target)
}

fn is_own(target: &str) -> bool {
    target
        .strip_prefix(OWN)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// env_logger, with the cap in front.
struct Capped {
    inner: env_logger::Logger,
}

impl Log for Capped {
    fn enabled(&self, metadata: &Metadata) -> bool {
        allowed(metadata.target(), metadata.level()) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if allowed(record.target(), record.level()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_crate_logs_below_info() {
        for target in ["oauth_test_client", "oauth_test_client::signin::browser"] {
            assert!(allowed(target, Level::Trace), "{target}");
        }
        for target in [
            "tungstenite::protocol",
            "chromiumoxide::conn",
            "hyper_util::client::legacy::pool",
            "h2::codec::framed_write",
            "reqwest::connect::verbose",
            "rustls::client::hs",
            "cookie_store::cookie_store",
            "actix_http::h1::dispatcher",
            "html5ever::tokenizer",
            "oauth_test_client_impostor",
            "tracing::span",
        ] {
            assert!(!allowed(target, Level::Debug), "{target}");
            assert!(!allowed(target, Level::Trace), "{target}");
            assert!(allowed(target, Level::Info), "{target}");
            assert!(allowed(target, Level::Warn), "{target}");
        }
    }
}
