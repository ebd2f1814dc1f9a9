//! The rules of `Config::from_cli`, setting by setting.
use super::*;

/// A configuration that is complete: an issuer and a client ID.
pub(crate) fn cli() -> Cli {
    Cli {
        issuer: Some("https://idp.example.com".into()),
        client_id: Some("client".into()),
        ..Cli::default()
    }
}

#[test]
fn defaults() {
    let c = Config::from_cli(&cli()).unwrap();
    assert_eq!(c.scope_string(), "openid profile email");
    assert_eq!(c.listen.port, 3000);
    assert!(c.listen.addrs.iter().all(|a| a.is_loopback()));
    assert_eq!(
        c.listen.addrs.len(),
        2,
        "localhost means both 127.0.0.1 and ::1"
    );
    assert_eq!(
        c.redirect_for_port(3000).as_str(),
        "http://localhost:3000/oauth_callback"
    );
    assert!(c.client_secret.is_none());
    assert_eq!(c.timeout, Duration::from_secs(300));
}

#[test]
fn empty_values_count_as_unset() {
    let mut raw = cli();
    raw.client_secret = Some(String::new());
    raw.port = Some(" ".into());
    raw.scopes = Some(String::new());
    let c = Config::from_cli(&raw).unwrap();
    assert_eq!(c.scope_string(), DEFAULT_SCOPES);
    assert!(c.client_secret.is_none());
    assert_eq!(c.listen.port, DEFAULT_PORT);
    raw.client_id = Some(String::new());
    assert!(Config::from_cli(&raw).unwrap().client_id.is_none());
}

#[test]
fn errors_name_the_setting() {
    let mut raw = Cli::default();
    let msg = Config::from_cli(&raw).unwrap_err().to_string();
    assert!(
        msg.contains("CLERK_PUBLISHABLE_KEY")
            && msg.contains("OAUTH_ISSUER")
            && msg.contains(".env.sample")
    );
    raw.publishable_key = Some("pk_test_bm90LWEta2V5".into());
    let msg = Config::from_cli(&raw).unwrap_err().to_string();
    assert!(
        msg.starts_with("CLERK_PUBLISHABLE_KEY") && msg.contains("'$'"),
        "{msg}"
    );
    let mut raw = cli();
    raw.port = Some("http".into());
    assert!(
        Config::from_cli(&raw)
            .unwrap_err()
            .to_string()
            .starts_with("PORT")
    );
    let mut raw = cli();
    raw.host = Some("example.com".into());
    assert!(
        Config::from_cli(&raw)
            .unwrap_err()
            .to_string()
            .starts_with("HOST")
    );
    let mut raw = cli();
    raw.timeout = Some("0".into());
    assert!(
        Config::from_cli(&raw)
            .unwrap_err()
            .to_string()
            .starts_with("OAUTH_TIMEOUT")
    );
    let mut raw = cli();
    raw.ca_cert = Some("/nonexistent/ca.pem".into());
    assert!(
        Config::from_cli(&raw)
            .unwrap_err()
            .to_string()
            .starts_with("OAUTH_CA_CERT")
    );
}

#[test]
fn auth_methods() {
    let mut raw = cli();
    raw.auth_method = Some("client_secret_basic".into());
    assert!(matches!(
        Config::from_cli(&raw),
        Err(ConfigError::AuthMethodNeedsSecret("client_secret_basic"))
    ));
    raw.client_secret = Some("s".into());
    assert_eq!(
        Config::from_cli(&raw).unwrap().auth_method,
        Some(AuthMethod::ClientSecretBasic)
    );
    raw.auth_method = Some("private_key_jwt".into());
    assert!(
        Config::from_cli(&raw)
            .unwrap_err()
            .to_string()
            .starts_with("OAUTH_AUTH_METHOD")
    );
}

#[test]
fn what_run_reads_comes_from_the_config() {
    let mut raw = cli();
    let c = Config::from_cli(&raw).unwrap();
    assert!(!c.report && !c.redact && !c.print_config);
    raw.once = true;
    raw.report = true;
    raw.redact = true;
    raw.print_config = true;
    let c = Config::from_cli(&raw).unwrap();
    assert!(c.report && c.redact && c.print_config);
    raw.once = false;
    assert!(matches!(
        Config::from_cli(&raw),
        Err(ConfigError::NeedsOnce("--report"))
    ));
}

#[test]
fn the_mcp_revision_defaults_to_the_newest_and_names_the_choices() {
    let mut raw = cli();
    assert_eq!(
        Config::from_cli(&raw).unwrap().mcp_revision,
        McpRevision::V2026_07_28
    );
    raw.mcp_revision = Some("2025-06-18".into());
    let c = Config::from_cli(&raw).unwrap();
    assert_eq!(c.mcp_revision, McpRevision::V2025_06_18);
    assert_eq!(c.summary()["mcp_revision"], "2025-06-18");
    raw.mcp_revision = Some("2024-11-05".into());
    let msg = Config::from_cli(&raw).unwrap_err().to_string();
    assert!(
        msg.starts_with("OAUTH_MCP_REVISION") && msg.contains("2025-03-26"),
        "{msg}"
    );
}

#[test]
fn audit_is_refused_with_dpop_naming_both() {
    let mut raw = cli();
    raw.once = true;
    raw.audit = true;
    raw.dpop = true;
    let msg = Config::from_cli(&raw).unwrap_err().to_string();
    assert!(msg.contains("--audit") && msg.contains("--dpop"), "{msg}");
}

#[test]
fn audit_runs_with_once_only() {
    let mut raw = cli();
    raw.audit = true;
    assert!(matches!(
        Config::from_cli(&raw),
        Err(ConfigError::NeedsOnce("--audit"))
    ));
    raw.once = true;
    let c = Config::from_cli(&raw).unwrap();
    assert!(c.audit);
    assert_eq!(c.summary()["audit"], true);
    assert!(format!("{raw:?}").contains("audit: true"));
}

#[test]
fn debug_never_shows_the_client_secret() {
    let mut raw = cli();
    raw.client_secret = Some("s3cr3t-value".into());
    let c = Config::from_cli(&raw).unwrap();
    assert!(c.client_secret.is_some());
    assert!(!format!("{c:?}").contains("s3cr3t-value"));
    assert!(!c.summary().to_string().contains("s3cr3t-value"));
}
