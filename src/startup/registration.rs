//! The client's identity at start when none is configured: a Client ID Metadata Document's
//! URL, else dynamic client registration (RFC 7591), and the private file its secret goes to.

use std::path::Path;

use crate::config::registered;
pub use crate::config::registered::REGISTERED_FILE;
use crate::config::{Config, ConfigError};
use crate::error::RunError;
use crate::oauth::Check;
use crate::output::Output;
use crate::provider::Provider;

/// The client identity chosen from a Client ID Metadata Document, when one is.
#[derive(Default)]
pub struct ClientMetadata {
    /// The document's URL, when it is the client ID.
    pub url: Option<String>,
    /// Whether the document, read from here, is the one the authorization server needs.
    pub checks: Vec<Check>,
}

/// MCP authorization, client identity order: a pre-registered CLIENT_ID, then a Client ID
/// Metadata Document (OAUTH_CLIENT_METADATA_URL, when the authorization server advertises
/// `client_id_metadata_document_supported`), then dynamic registration.
pub async fn client_metadata(
    provider: &mut Provider,
    config: &Config,
    port: u16,
) -> ClientMetadata {
    let Some(url) = config
        .client_metadata_url
        .as_ref()
        .filter(|_| config.client_id.is_none() && !config.register)
    else {
        return ClientMetadata::default();
    };
    let mcp = config.resource.as_ref().is_some_and(|r| r.mcp);
    if mcp && !config.mcp_revision.client_id_metadata_documents() {
        eprintln!(
            "OAUTH_CLIENT_METADATA_URL is set, but MCP revision {} (OAUTH_MCP_REVISION) predates \
             Client ID Metadata Documents: not used",
            config.mcp_revision.as_str()
        );
        return ClientMetadata::default();
    }
    if !provider.client_id_metadata_document_supported {
        eprintln!(
            "OAUTH_CLIENT_METADATA_URL is set, but {} does not advertise \
             client_id_metadata_document_supported: {}",
            provider.issuer,
            match provider.registration_endpoint {
                Some(_) => "registering a client instead (RFC 7591)",
                None => "it offers no registration either",
            }
        );
        return ClientMetadata::default();
    }
    eprintln!(
        "{} accepts Client ID Metadata Documents: using {} as the client ID instead of \
         registering a client",
        provider.issuer,
        url.as_str()
    );
    provider.use_client_id_metadata_document(url.as_str());
    let redirect = config.redirect_for_port(port);
    let check = match provider.client_metadata_document(url.url()).await {
        Ok(doc) => crate::verify::client_metadata::document(&doc, url.as_str(), redirect.as_str()),
        Err(e) => crate::verify::client_metadata::unreadable(url.as_str(), &e.to_string()),
    };
    match check.result {
        crate::oauth::Verdict::Pass => log::info!("{}: {}", check.check, check.detail),
        _ => log::warn!("{}: {}", check.check, check.detail),
    }
    ClientMetadata {
        url: Some(url.as_str().to_owned()),
        checks: vec![check],
    }
}

/// RFC 7591: a client for this app's redirect URI, when none is configured (or --register).
/// A client saved by an earlier run for the same issuer and redirect URI is used again,
/// unless --register asks for a new one. The client ID goes to stderr; a secret never does:
/// it is saved to a file only the user can read.
pub async fn register(
    provider: &mut Provider,
    config: &Config,
    port: u16,
    output: &Output,
) -> Result<(), RunError> {
    let redirect = config.redirect_for_port(port);
    if !config.register
        && let Some(saved) = registered::find(Path::new("."), &provider.issuer, redirect.as_str())
    {
        if let Some(secret) = &saved.client_secret {
            output.hold_secret(secret.secret());
        }
        eprintln!(
            "Using the {} client registered earlier for {} at {}: CLIENT_ID={} (saved in {}; \
             --register registers a new one)",
            if saved.client_secret.is_some() {
                "confidential"
            } else {
                "public"
            },
            redirect.as_str(),
            provider.issuer,
            saved.client_id,
            saved
                .registration
                .saved
                .as_deref()
                .map_or_else(String::new, |p| p.display().to_string()),
        );
        provider.use_saved_client(saved);
        return Ok(());
    }
    if provider.registration_endpoint.is_none() {
        return Err(if config.client_id.is_none() {
            RunError::Config(ConfigError::NoClientId)
        } else {
            RunError::Unsupported(
                "--register: the provider's metadata has no registration_endpoint (RFC 7591)"
                    .into(),
            )
        });
    }
    let registered = provider
        .register(&redirect, config.register_confidential)
        .await
        .map_err(|e| RunError::Flow(format!("dynamic client registration failed: {e}")))?;
    eprintln!(
        "Registered a {} client for {}: CLIENT_ID={}",
        if registered.client_secret.is_some() {
            "confidential"
        } else {
            "public"
        },
        redirect.as_str(),
        registered.client_id
    );
    let secret = registered.client_secret.as_ref().map(|s| s.secret());
    if let Some(secret) = secret {
        output.hold_secret(secret);
    }
    let text = registered::file_text(
        &provider.issuer,
        redirect.as_str(),
        &registered.client_id,
        secret.map(String::as_str),
        registered.auth_method,
        registered.asked,
        registered.returned.as_deref(),
    );
    let path = save_private(Path::new("."), &text).map_err(|e| {
        RunError::Flow(format!(
            "could not save the registered client beside {REGISTERED_FILE}: {e}"
        ))
    })?;
    eprintln!(
        "It is saved in {} (readable by you only): the next run for this issuer and redirect URI \
         uses it again",
        path.display()
    );
    if let Some(registration) = provider.registration.as_mut() {
        registration.saved = Some(path);
    }
    Ok(())
}

/// Writes `text` to a new file in `dir`, readable by the user only: REGISTERED_FILE, or when
/// that name is taken (by a file, or a link of any kind, which is never followed) the first
/// free `oauth-test-client.registered-N.env`. Returns the path written.
pub fn save_private(dir: &std::path::Path, text: &str) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let names = std::iter::once(REGISTERED_FILE.to_owned())
        .chain((2..100).map(|n| format!("oauth-test-client.registered-{n}.env")));
    for name in names {
        let path = dir.join(name);
        match crate::private_file::create_new(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "99 registration files exist already: remove the old ones",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn the_registration_file_is_new_private_and_never_replaces_or_follows() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = save_private(dir.path(), "CLIENT_SECRET=one\n").unwrap();
        assert_eq!(first, dir.path().join(REGISTERED_FILE));
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // An existing file is left as it is; the new client goes beside it.
        let second = save_private(dir.path(), "CLIENT_SECRET=two\n").unwrap();
        assert_ne!(second, first);
        assert_eq!(
            std::fs::read_to_string(&first).unwrap(),
            "CLIENT_SECRET=one\n"
        );
        assert_eq!(
            std::fs::metadata(&second).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A link in the way is never followed: its target stays untouched.
        let other = tempfile::tempdir().unwrap();
        let target = other.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(REGISTERED_FILE)).unwrap();
        let written = save_private(dir.path(), "CLIENT_SECRET=three\n").unwrap();
        assert_ne!(written, dir.path().join(REGISTERED_FILE));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
