//! Clients registered earlier by this tool (RFC 7591), as saved in the working folder's
//! `oauth-test-client.registered*.env` files: the one for an issuer and redirect URI, read
//! back so a run reuses it instead of registering anew, and set aside once refused.

use std::path::{Path, PathBuf};

use oauth2::ClientSecret;

use crate::oauth::AuthMethod;

/// Where a registered client's credentials are saved (listed in .gitignore); later ones, when
/// that name is taken, as `oauth-test-client.registered-N.env`.
pub const REGISTERED_FILE: &str = "oauth-test-client.registered.env";

/// What the registration asked for and what the provider's response said, as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The `token_endpoint_auth_method` the request asked for.
    pub asked: AuthMethod,
    /// The response's `token_endpoint_auth_method`, as sent (`None`: it had none).
    pub returned: Option<String>,
    /// The file the client is saved in, when it is.
    pub saved: Option<PathBuf>,
    /// Read from `saved` at start, not registered by this run.
    pub reused: bool,
}

/// A client read back from a saved registration file. The secret's `Debug` is redacted.
#[derive(Debug)]
pub struct SavedClient {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub auth_method: AuthMethod,
    pub registration: Registration,
}

/// The file's text for a client registered at `issuer` for `redirect` (the lines of an .env
/// file, so they can be copied into one).
pub fn file_text(
    issuer: &str,
    redirect: &str,
    client_id: &str,
    secret: Option<&str>,
    auth_method: AuthMethod,
    asked: AuthMethod,
    returned: Option<&str>,
) -> String {
    format!(
        "# Registered at {issuer} (RFC 7591) for {redirect}; oauth-test-client reuses it for \
         that issuer and redirect URI (--register registers a new one).\n\
         # asked token_endpoint_auth_method={}, returned={}\n\
         OAUTH_ISSUER={issuer}\nREDIRECT_URI={redirect}\nCLIENT_ID={client_id}\n{}\
         OAUTH_AUTH_METHOD={}\n",
        asked.name(),
        returned.unwrap_or("(none)"),
        secret
            .map(|s| format!("CLIENT_SECRET={s}\n"))
            .unwrap_or_default(),
        auth_method.name(),
    )
}

/// The newest saved client in `dir` for `issuer` and `redirect`: only regular files (never a
/// link) named like REGISTERED_FILE, readable by their owner only.
pub fn find(dir: &Path, issuer: &str, redirect: &str) -> Option<SavedClient> {
    let mut found: Vec<(std::time::SystemTime, SavedClient)> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|entry| is_registration_name(&entry.file_name().to_string_lossy()))
        .filter_map(|entry| {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).ok()?;
            if !meta.file_type().is_file() || meta.len() > 16 * 1024 || !private(&meta) {
                return None;
            }
            let text = std::fs::read_to_string(&path).ok()?;
            let client = parse(&text, issuer, redirect, path)?;
            Some((meta.modified().ok()?, client))
        })
        .collect();
    found.sort_by_key(|(modified, _)| *modified);
    found.pop().map(|(_, client)| client)
}

/// Moves a refused registration's file out of the way (`.refused` added to its name), so the
/// next run registers anew; the new name.
pub fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".refused");
    let to = path.with_file_name(name);
    std::fs::rename(path, &to)?;
    Ok(to)
}

fn is_registration_name(name: &str) -> bool {
    name == REGISTERED_FILE
        || name
            .strip_prefix("oauth-test-client.registered-")
            .and_then(|rest| rest.strip_suffix(".env"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(unix)]
fn private(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 == 0
}

#[cfg(not(unix))]
fn private(_: &std::fs::Metadata) -> bool {
    true
}

fn parse(text: &str, issuer: &str, redirect: &str, path: PathBuf) -> Option<SavedClient> {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    if value("OAUTH_ISSUER")? != issuer || value("REDIRECT_URI")? != redirect {
        return None;
    }
    let client_id = value("CLIENT_ID").filter(|c| !c.is_empty())?;
    let auth_method = AuthMethod::parse(value("OAUTH_AUTH_METHOD")?)?;
    let secret = value("CLIENT_SECRET").filter(|s| !s.is_empty());
    if (auth_method == AuthMethod::None) != secret.is_none() {
        return None;
    }
    let (asked, returned) = text
        .lines()
        .find_map(|l| l.strip_prefix("# asked token_endpoint_auth_method="))
        .and_then(|rest| rest.split_once(", returned="))
        .map_or((auth_method, None), |(asked, returned)| {
            (
                AuthMethod::parse(asked).unwrap_or(auth_method),
                Some(returned.trim().to_owned()).filter(|r| r != "(none)"),
            )
        });
    Some(SavedClient {
        client_id: client_id.to_owned(),
        client_secret: secret.map(|s| ClientSecret::new(s.to_owned())),
        auth_method,
        registration: Registration {
            asked,
            returned,
            saved: Some(path),
            reused: true,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:4000";
    const REDIRECT: &str = "http://localhost:3000/oauth_callback";

    fn write(dir: &Path, name: &str, text: &str) {
        use std::io::Write;
        crate::private_file::create_new(&dir.join(name))
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    #[test]
    fn the_saved_client_for_this_issuer_and_redirect_uri_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let public = file_text(
            ISSUER,
            REDIRECT,
            "pub-1",
            None,
            AuthMethod::None,
            AuthMethod::None,
            Some("none"),
        );
        write(dir.path(), REGISTERED_FILE, &public);
        let other = file_text(
            "https://elsewhere.example",
            REDIRECT,
            "other",
            Some("s3cret"),
            AuthMethod::ClientSecretPost,
            AuthMethod::ClientSecretPost,
            None,
        );
        write(dir.path(), "oauth-test-client.registered-2.env", &other);
        let found = find(dir.path(), ISSUER, REDIRECT).expect("found");
        assert_eq!(found.client_id, "pub-1");
        assert_eq!(found.auth_method, AuthMethod::None);
        assert!(found.client_secret.is_none());
        assert_eq!(found.registration.returned.as_deref(), Some("none"));
        assert!(found.registration.reused);
        assert!(find(dir.path(), ISSUER, "http://localhost:3001/oauth_callback").is_none());
        let confidential = find(dir.path(), "https://elsewhere.example", REDIRECT).unwrap();
        assert_eq!(confidential.client_secret.unwrap().secret(), "s3cret");
        assert_eq!(confidential.registration.returned, None);
        // Set aside, it is not found again.
        set_aside(&dir.path().join(REGISTERED_FILE)).unwrap();
        assert!(find(dir.path(), ISSUER, REDIRECT).is_none());
    }

    #[test]
    #[cfg(unix)]
    fn a_link_or_a_file_others_can_read_is_never_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let text = file_text(
            ISSUER,
            REDIRECT,
            "x",
            None,
            AuthMethod::None,
            AuthMethod::None,
            None,
        );
        let elsewhere = tempfile::tempdir().unwrap();
        write(elsewhere.path(), "target", &text);
        std::os::unix::fs::symlink(
            elsewhere.path().join("target"),
            dir.path().join(REGISTERED_FILE),
        )
        .unwrap();
        assert!(find(dir.path(), ISSUER, REDIRECT).is_none());
        write(dir.path(), "oauth-test-client.registered-3.env", &text);
        let path = dir.path().join("oauth-test-client.registered-3.env");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(find(dir.path(), ISSUER, REDIRECT).is_none());
    }
}
