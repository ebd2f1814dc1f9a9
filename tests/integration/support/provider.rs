//! The real local OpenID provider (panva's oidc-provider, tests/provider/), started per test.
//! Fails loudly when Node.js or npm is missing: these tests never pass by skipping.

use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub const CONFIDENTIAL_ID: &str = "test-confidential";
pub const CONFIDENTIAL_SECRET: &str = "test-confidential-secret";
pub const PUBLIC_ID: &str = "test-public";
pub const BASIC_ID: &str = "test-basic";
pub const BASIC_SECRET: &str = "p+a/s:s$w%rd=";

fn provider_dir() -> PathBuf {
    super::npm::folder("provider")
}

fn ensure_installed() {
    super::npm::ensure_installed(
        "provider",
        &["oidc-provider", "jose"],
        "the local OpenID provider",
    );
}

pub struct LocalProvider {
    child: Child,
    _stdin: ChildStdin,
    pub issuer: String,
    pub port: u16,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl LocalProvider {
    /// Plain HTTP on 127.0.0.1 with the default clients.
    pub fn start() -> Self {
        Self::start_with(json!({}))
    }

    /// `options` as documented in tests/provider/provider.mjs.
    pub fn start_with(options: Value) -> Self {
        ensure_installed();
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr_path = dir.path().join("provider.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new("node")
            .arg(provider_dir().join("provider.mjs"))
            .arg(options.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("PROVIDER_STDERR").is_some() {
                Stdio::inherit()
            } else {
                stderr.into()
            })
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start node ({e}): Node.js 20+ is needed for the test provider")
            });
        // Generous: under a heavy load (2 cores, a load average of 13) Node took over 30 s.
        let (ready, stdin) = super::ready::wait_for_ready(
            &mut child,
            "the test provider",
            &stderr_path,
            Duration::from_secs(90),
        );
        Self {
            child,
            _stdin: stdin,
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            port: ready["port"].as_u64().expect("port") as u16,
            stderr_path,
            _dir: dir,
        }
    }

    /// What the provider wrote to stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a certificate for `localhost` / 127.0.0.1 signed by it, as PEM files.
pub struct TestCa {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "oauth-test-client test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("ca cert");
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("leaf params");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf cert");
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write pem");
            path
        };
        Self {
            ca_pem: write("ca.pem", ca.pem()),
            cert_pem: write("cert.pem", leaf.pem()),
            key_pem: write("key.pem", leaf_key.serialize_pem()),
            _dir: dir,
        }
    }
}
