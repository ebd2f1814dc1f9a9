//! The built binary, as a CI job runs it: `--once`, each exit status, stdout holding only
//! JSON, nothing secret in the logs, and where settings come from.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID};

pub struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    sign_in: Receiver<String>,
    url: std::cell::OnceCell<String>,
}

pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn documents(&self) -> Vec<Value> {
        serde_json::Deserializer::from_str(&self.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("stdout is not only JSON ({e}): {}", self.stdout))
    }
}

/// Starts the binary in `cwd` with only the given environment (plus PATH).
pub fn spawn(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Running {
    Running::spawn_program(
        Path::new(env!("CARGO_BIN_EXE_oauth-test-client")),
        args,
        env,
        cwd,
    )
}

impl Running {
    /// Starts `program` (this build's binary, or an installed one) the same way.
    pub fn spawn_program(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
    ) -> Running {
        spawn_program(program, args, env, cwd)
    }
}

fn spawn_program(program: &Path, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Running {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = channel();
    let pipe = child.stderr.take().expect("stderr");
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Sign in at ") {
                let _ = tx.send(url.trim().to_owned());
            }
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    Running {
        child,
        stderr,
        sign_in: rx,
        url: std::cell::OnceCell::new(),
    }
}

impl Running {
    /// What the binary wrote to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sign_in_url(&self) -> String {
        self.url
            .get_or_init(|| {
                self.sign_in
                    .recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|_| {
                        panic!("no sign-in URL on stderr:\n{}", self.stderr.lock().unwrap())
                    })
            })
            .clone()
    }

    /// Signs in as `user` through the provider's own forms, loads the callback page (which
    /// must answer `status`), then waits for the binary to exit. The wait runs off this
    /// runtime, so servers the test started keep serving the binary meanwhile.
    pub async fn sign_in_and_finish(self, user: &str, status: u16) -> Finished {
        let sign_in = self.sign_in_url();
        let browser = Browser::new();
        let callback = browser
            .authorize(&sign_in, &callback_prefix(&sign_in), user, Choice::Approve)
            .await;
        let page = browser.client().get(callback).send().await.unwrap();
        assert_eq!(page.status(), status);
        tokio::task::spawn_blocking(move || self.finish(Duration::from_secs(60)))
            .await
            .unwrap()
    }

    pub fn finish(mut self, within: Duration) -> Finished {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the binary did not exit within {within:?}:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut stdout)
            .expect("stdout");
        std::thread::sleep(Duration::from_millis(100)); // let the stderr reader finish
        Finished {
            code: status.code(),
            stdout,
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

fn run(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Finished {
    spawn(args, env, cwd).finish(Duration::from_secs(30))
}

pub fn callback_prefix(sign_in: &str) -> String {
    sign_in.replace("/login", "/oauth_callback")
}

#[tokio::test]
async fn once_prints_only_the_token_json_exits_0_and_logs_nothing_secret_even_at_trace() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &["--once", "--no-browser", "--port", "0"],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
            ("RUST_LOG", "trace"),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    assert!(sign_in.starts_with("http://localhost:"), "{sign_in}");
    let browser = Browser::new();
    let callback = browser
        .authorize(&sign_in, &callback_prefix(&sign_in), "kim", Choice::Approve)
        .await;
    let page = browser.client().get(callback.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "exactly one JSON document on stdout");
    let token = &docs[0];
    for field in [
        "access_token",
        "expires_in",
        "id_token",
        "refresh_token",
        "scope",
        "token_type",
    ] {
        assert!(token.get(field).is_some(), "no {field} in {token}");
    }

    let query: std::collections::HashMap<String, String> =
        callback.query_pairs().into_owned().collect();
    let mut secrets = vec![
        ("client secret", CONFIDENTIAL_SECRET.to_owned()),
        ("code", query["code"].clone()),
        ("state", query["state"].clone()),
        ("PKCE verifier parameter", "code_verifier".to_owned()),
    ];
    for field in ["access_token", "refresh_token", "id_token"] {
        secrets.push((field, token[field].as_str().unwrap().to_owned()));
    }
    assert!(
        done.stderr.len() > 1000,
        "trace logging was on: {}",
        done.stderr.len()
    );
    for (what, value) in secrets {
        assert!(
            !done.stderr.contains(&value),
            "the {what} appears in stderr at RUST_LOG=trace"
        );
    }
}

#[tokio::test]
async fn once_exits_1_with_the_providers_error_as_json_when_consent_is_denied() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--issuer",
            &provider.issuer,
            "--client-id",
            PUBLIC_ID,
        ],
        &[],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    let callback = browser
        .authorize(&sign_in, &callback_prefix(&sign_in), "lee", Choice::Abort)
        .await;
    let page = browser.client().get(callback).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let docs = done.documents();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["error"], "access_denied");
    assert_eq!(docs[0]["error_description"], "End-User aborted interaction");
    assert!(
        done.stderr.contains("access_denied"),
        "the reason is on stderr: {}",
        done.stderr
    );
}

#[tokio::test]
async fn a_hostile_error_description_cannot_forge_or_hide_stderr_text() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--issuer",
            &provider.issuer,
            "--client-id",
            PUBLIC_ID,
        ],
        &[],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    let callback = browser
        .authorize(&sign_in, &callback_prefix(&sign_in), "lee", Choice::Abort)
        .await;
    // The same callback, its error_description replaced: a screen clear, a forged log line,
    // a right-to-left override.
    let mut url = callback;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "error_description" => (k, "\u{1b}[2J\r\n[INFO] signed in\u{202e}".to_owned()),
            _ => (k, v),
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let page = browser.client().get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        !done.stderr.contains(['\u{1b}', '\r', '\u{202e}'])
            && !done
                .stderr
                .lines()
                .any(|l| l.starts_with("[INFO] signed in")),
        "{:?}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains(r"\u{1b}[2J\r\n[INFO] signed in\u{202e}"),
        "shown, escaped: {}",
        done.stderr
    );
    // stdout is JSON, which carries the provider's words exactly.
    let docs = done.documents();
    assert_eq!(
        docs[0]["error_description"],
        "\u{1b}[2J\r\n[INFO] signed in\u{202e}"
    );
}

#[test]
fn configuration_errors_exit_2_with_one_message_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let done = run(&["--once"], &[("CLIENT_ID", "x")], dir.path());
    assert_eq!(done.code, Some(2));
    assert!(done.stdout.is_empty());
    assert!(
        done.stderr.contains("OAUTH_ISSUER") && done.stderr.contains(".env"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.stderr.matches("error:").count(),
        1,
        "one message: {}",
        done.stderr
    );

    let done = run(&[], &[], dir.path());
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("cp") || done.stderr.contains("copy .env.sample"),
        "{}",
        done.stderr
    );

    let done = run(
        &["--client-id", "x"],
        &[("CLERK_PUBLISHABLE_KEY", "pk_test_bm9kb2xsYXI")],
        dir.path(),
    );
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("CLERK_PUBLISHABLE_KEY") && done.stderr.contains("pk_test_"),
        "{}",
        done.stderr
    );

    let done = run(
        &["--client-id", "x", "--issuer", "http://idp.example.com"],
        &[],
        dir.path(),
    );
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("OAUTH_ISSUER") && done.stderr.contains("https://"),
        "{}",
        done.stderr
    );

    let done = run(&["--bogus-flag"], &[], dir.path());
    assert_eq!(done.code, Some(2), "clap's usage errors exit 2 too");
}

#[tokio::test]
async fn once_exits_3_when_no_callback_arrives_in_time() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &["--once", "--no-browser", "--port", "0", "--timeout", "1"],
        &[("OAUTH_ISSUER", &provider.issuer), ("CLIENT_ID", PUBLIC_ID)],
        dir.path(),
    );
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(3), "{}", done.stderr);
    assert!(done.stderr.contains("OAUTH_TIMEOUT"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
}

/// Starts `--once`, sends `signal` once the sign-in URL is out, and expects exit 130.
pub async fn once_is_interrupted_by(signal: &str) {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &["--once", "--no-browser", "--port", "0"],
        &[("OAUTH_ISSUER", &provider.issuer), ("CLIENT_ID", PUBLIC_ID)],
        dir.path(),
    );
    running.sign_in_url();
    let status = Command::new("kill")
        .args([signal, &running.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let done = running.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(130), "{signal}: {}", done.stderr);
}

#[tokio::test]
async fn once_exits_130_on_ctrl_c() {
    once_is_interrupted_by("-INT").await;
}

/// `--print-client-metadata`: the Client ID Metadata Document to host, naming its own URL
/// and this app's redirect URI; without a URL, or with no fixed port, one message each.
#[test]
fn print_client_metadata_prints_the_document_to_host() {
    let dir = tempfile::tempdir().unwrap();
    let url = "https://app.example.com/oauth-client.json";
    let base = [
        "--issuer",
        "https://idp.example.com",
        "--print-client-metadata",
    ];
    let mut args = base.to_vec();
    args.extend(["--client-metadata-url", url, "--port", "4100"]);
    let done = run(&args, &[], dir.path());
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let doc = done.documents().remove(0);
    assert_eq!(doc["client_id"], url);
    assert_eq!(
        doc["redirect_uris"],
        serde_json::json!(["http://localhost:4100/oauth_callback"])
    );
    assert_eq!(doc["token_endpoint_auth_method"], "none");
    assert_eq!(
        doc["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let done = run(&base, &[], dir.path());
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.contains("OAUTH_CLIENT_METADATA_URL"),
        "{}",
        done.stderr
    );
    let mut args = base.to_vec();
    args.extend(["--client-metadata-url", url, "--port", "0"]);
    let done = run(&args, &[], dir.path());
    assert_eq!(done.code, Some(2));
    assert!(done.stderr.contains("PORT"), "{}", done.stderr);
    let mut args = base.to_vec();
    args.extend(["--client-metadata-url", "http://app.example.com/c.json"]);
    let done = run(&args, &[], dir.path());
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr.starts_with("OAUTH_CLIENT_METADATA_URL")
            || done.stderr.contains("OAUTH_CLIENT_METADATA_URL"),
        "{}",
        done.stderr
    );
}

#[test]
fn flags_beat_the_environment_which_beats_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "OAUTH_ISSUER=https://dotenv.example\nCLIENT_ID=from-dotenv\nCLIENT_SECRET=dotenv-secret\nOAUTH_SCOPES=\"openid dotenv\"\n",
    )
    .unwrap();
    let config = |args: &[&str], env: &[(&str, &str)]| -> Value {
        let mut all = vec!["--print-config"];
        all.extend_from_slice(args);
        let done = run(&all, env, dir.path());
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        assert!(
            !done.stdout.contains("dotenv-secret"),
            "the secret is never printed"
        );
        done.documents().remove(0)
    };
    let c = config(&[], &[]);
    assert_eq!(c["issuer"], "https://dotenv.example");
    assert_eq!(c["client_id"], "from-dotenv");
    assert_eq!(c["scopes"], "openid dotenv");
    assert_eq!(c["client_secret"], "set");

    let c = config(
        &[],
        &[
            ("CLIENT_ID", "from-env"),
            ("OAUTH_ISSUER", "https://env.example"),
        ],
    );
    assert_eq!(
        c["client_id"], "from-env",
        ".env never overrides the environment"
    );
    assert_eq!(c["issuer"], "https://env.example");
    assert_eq!(c["scopes"], "openid dotenv");

    let c = config(&["--client-id", "from-flag"], &[("CLIENT_ID", "from-env")]);
    assert_eq!(c["client_id"], "from-flag");
}

async fn once_then(steps: &str, resource_path: &str) -> (Finished, Vec<Value>) {
    let provider = LocalProvider::start();
    let api = crate::support::resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let resource_url = format!("{}{resource_path}", api.base);
    let running = spawn(
        &["--once", "--no-browser", "--port", "0", "--then", steps],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
            ("RESOURCE_URL", &resource_url),
        ],
        dir.path(),
    );
    let done = running.sign_in_and_finish("mia", 200).await;
    let docs = done.documents();
    (done, docs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_then_runs_every_step_in_order_and_prints_one_document() {
    let (done, docs) = once_then("refresh,userinfo,tokeninfo,api,revoke", "/api").await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert_eq!(docs.len(), 1, "one document");
    let doc = &docs[0];
    assert!(doc["token"]["access_token"].is_string());
    let steps = doc["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "refresh",
            "userinfo",
            "tokeninfo:refresh",
            "api",
            "revoke:refresh"
        ]
    );
    for step in steps {
        assert_eq!(step["ok"], true, "{step}");
        assert!(step.get("error").is_none(), "{step}");
    }
    assert_eq!(steps[1]["status"], 200);
    assert_eq!(steps[1]["response"]["sub"], "mia");
    assert_eq!(steps[2]["response"]["active"], true);
    assert_eq!(steps[3]["response"]["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_then_exits_1_when_a_step_fails_and_says_why() {
    let (done, docs) = once_then("userinfo,api", "/deny").await;
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let steps = docs[0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["ok"], true);
    assert_eq!(steps[1]["ok"], false);
    assert_eq!(steps[1]["status"], 401);
    assert!(
        steps[1]["error"]
            .as_str()
            .unwrap()
            .contains("invalid_token"),
        "{}",
        steps[1]
    );
    assert!(
        done.stderr.contains("api") && done.stderr.contains("401"),
        "{}",
        done.stderr
    );
}

#[tokio::test]
async fn without_client_id_or_registration_the_error_names_both_ways_out() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let done = run(
        &["--once", "--no-browser", "--port", "0"],
        &[("OAUTH_ISSUER", &provider.issuer)],
        dir.path(),
    );
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains("CLIENT_ID is not set"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("registration_endpoint"),
        "{}",
        done.stderr
    );
}

async fn registered_sign_in(extra: &[&str]) -> (Finished, tempfile::TempDir) {
    let provider = LocalProvider::start_with(serde_json::json!({ "registration": true }));
    registered_sign_in_at(&provider, extra).await
}

async fn registered_sign_in_at(
    provider: &LocalProvider,
    extra: &[&str],
) -> (Finished, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--once", "--no-browser", "--port", "0", "--report"];
    args.extend_from_slice(extra);
    let running = spawn(&args, &[("OAUTH_ISSUER", &provider.issuer)], dir.path());
    let done = running.sign_in_and_finish("uma", 200).await;
    (done, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_client_id_a_public_client_is_registered_and_signs_in() {
    let (done, dir) = registered_sign_in(&[]).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("Registered a public client"),
        "{}",
        done.stderr
    );
    let doc = &done.documents()[0];
    assert!(doc["token"]["access_token"].is_string());
    let aud = doc["id_token_claims"]["aud"].as_str().unwrap();
    assert!(
        done.stderr.contains(&format!("CLIENT_ID={aud}")),
        "the ID token is for the new client"
    );
    // Saved without a secret, for the next run to reuse (issue 23 item 10).
    let saved = std::fs::read_to_string(dir.path().join("oauth-test-client.registered.env"))
        .expect("the registration is saved");
    assert!(saved.contains(&format!("CLIENT_ID={aud}")), "{saved}");
    assert!(!saved.contains("CLIENT_SECRET"), "{saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_client_is_registered_and_its_secret_kept_out_of_the_logs() {
    let (done, dir) = registered_sign_in(&["--register-confidential"]).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("Registered a confidential client"),
        "{}",
        done.stderr
    );
    let file = dir.path().join("oauth-test-client.registered.env");
    let saved = std::fs::read_to_string(&file).unwrap();
    let secret = saved
        .lines()
        .find_map(|l| l.strip_prefix("CLIENT_SECRET="))
        .expect("the secret is saved");
    assert!(secret.len() > 16);
    assert!(
        !done.stderr.contains(secret),
        "the secret never reaches stderr"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_offered_only_in_the_rfc_8414_document_is_used_and_the_report_says_so() {
    let provider = LocalProvider::start_with(
        serde_json::json!({ "registration": true, "split_metadata": true }),
    );
    let (done, _dir) = registered_sign_in_at(&provider, &[]).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("Registered a public client"),
        "{}",
        done.stderr
    );
    let endpoints = &done.documents()[0]["endpoints"];
    let oauth = format!("{}/.well-known/oauth-authorization-server", provider.issuer);
    let openid = format!("{}/.well-known/openid-configuration", provider.issuer);
    for name in [
        "registration_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        assert_eq!(
            endpoints[name]["from"],
            oauth.as_str(),
            "{name}: {endpoints}"
        );
    }
    assert_eq!(endpoints["token_endpoint"]["from"], openid.as_str());
    assert_eq!(
        endpoints["registration_endpoint"]["url"],
        format!("{}/oauth/register", provider.issuer)
    );
}

#[tokio::test]
async fn the_unlisted_auth_method_warning_is_only_about_the_client_in_use() {
    // As django-oauth-toolkit: `none` works for public clients but is not listed.
    let provider = LocalProvider::start_with(serde_json::json!({
        "registration": true,
        "listed_auth_methods": ["client_secret_basic", "client_secret_post"],
    }));
    let dir = tempfile::tempdir().unwrap();
    let args = ["--once", "--no-browser", "--port", "0", "--timeout", "1"];
    let warning = "is not in the provider's token_endpoint_auth_methods_supported";

    // Registration decides the method, and the provider's answer names it: no warning.
    let done = run(&args, &[("OAUTH_ISSUER", &provider.issuer)], dir.path());
    assert_eq!(done.code, Some(3), "{}", done.stderr);
    assert!(
        done.stderr.contains("Registered a public client"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains(warning), "{}", done.stderr);

    // A pre-registered public client uses `none`, which the provider does not list.
    let done = run(
        &args,
        &[("OAUTH_ISSUER", &provider.issuer), ("CLIENT_ID", PUBLIC_ID)],
        dir.path(),
    );
    assert_eq!(done.code, Some(3), "{}", done.stderr);
    assert!(
        done.stderr
            .contains(&format!("client authentication none {warning}")),
        "{}",
        done.stderr
    );
}
