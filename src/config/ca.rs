//! OAUTH_CA_CERT: a PEM bundle of extra roots to trust for the provider, read and checked
//! once at start.

use std::path::{Path, PathBuf};

use super::error::ConfigError;

/// A PEM bundle of extra trusted roots, already checked to parse.
#[derive(Debug, Clone)]
pub struct CaBundle {
    pub path: PathBuf,
    pub pem: Vec<u8>,
    pub count: usize,
}

impl CaBundle {
    pub(super) fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |problem: String| ConfigError::CaCert {
            path: path.to_owned(),
            problem,
        };
        let pem =
            std::fs::read(path).map_err(|e| err(format!("{e}; give the path of a PEM file")))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| err(format!("not a PEM certificate bundle ({e})")))?;
        if certs.is_empty() {
            return Err(err(
                "the file holds no -----BEGIN CERTIFICATE----- block".into()
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            count: certs.len(),
            pem,
        })
    }
}
