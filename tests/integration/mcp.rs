//! The MCP check (`oauth_test_client::mcp`) against a real MCP server built with the official
//! TypeScript SDK, with real tokens: the built binary signs in at the local provider with the
//! MCP server's URL as the `resource` (RFC 8707), so the token's audience is that server. And
//! against a stand-in for what the SDK's server cannot be made to do.

use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::binary::spawn;
use crate::support::mcp_server::McpServer;
use crate::support::mcp_standin;
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};
use oauth_test_client::mcp::{Client, Delivery, Failure, Handshake, McpError, ToolCall};
use oauth_test_client::oauth::Verdict;

/// An access token from the real provider, by the built binary's `--once` sign-in, for
/// `resource`.
async fn token_for(provider: &LocalProvider, resource: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let param = format!("resource={resource}");
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--scopes",
            "openid api:read",
            "--param",
            &param,
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let done = running.sign_in_and_finish("mia", 200).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    done.documents()[0]["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn check(url: &str, token: Option<&str>, call: Option<&str>) -> Result<Handshake, Failure> {
    let call: Option<ToolCall> = call.map(|c| c.parse().expect("tool call"));
    Client::new(Duration::from_secs(10))
        .unwrap()
        .check(&Url::parse(url).unwrap(), token, call.as_ref())
        .await
}

fn verdict(checks: &[oauth_test_client::oauth::Check], name: &str) -> Verdict {
    checks
        .iter()
        .find(|c| c.check == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
        .result
}

/// The provider, the SDK's server (`options` added to its own), and a token for it.
async fn signed_in(options: Value) -> (LocalProvider, McpServer, String) {
    let provider = LocalProvider::start();
    let mut all = json!({ "issuer": provider.issuer });
    all.as_object_mut()
        .unwrap()
        .extend(options.as_object().unwrap().clone());
    let server = McpServer::start_with(all);
    let token = token_for(&provider, &server.url).await;
    (provider, server, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_names_the_server_its_protocol_and_tools() {
    let (_provider, server, token) = signed_in(json!({})).await;
    let done = check(&server.url, Some(&token), Some("whoami"))
        .await
        .unwrap_or_else(|f| panic!("{f}\n{:?}\n{}", f.checks, server.stderr()));
    assert_eq!(done.server.name, "oauth-test-client-test-mcp");
    assert_eq!(done.server.version, "1.2.3");
    assert_eq!(done.protocol_version, "2025-11-25");
    assert_eq!(done.delivery, Delivery::Sse, "the SDK answers with SSE");
    assert!(done.session, "the SDK server issues a session");
    assert!(
        done.capabilities["tools"].is_object(),
        "{}",
        done.capabilities
    );
    let tools: Vec<(&str, Option<&str>)> = done
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t.description.as_deref()))
        .collect();
    assert_eq!(
        tools,
        [
            ("echo", Some("Says back what it is given")),
            (
                "whoami",
                Some("What the access token says: subject, client, scopes, audience")
            ),
            ("admin_only", Some("Needs the mcp:admin scope")),
        ]
    );
    let call = done.call.as_ref().unwrap();
    let result = call.result.as_ref().unwrap();
    let said: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(said["sub"], "mia");
    assert_eq!(said["aud"], server.url.as_str());
    assert_eq!(said["scopes"], json!(["api:read"]));
    for name in [
        "mcp.initialize",
        "mcp.protocol_version",
        "mcp.initialized",
        "mcp.tools_list",
        "mcp.tools_call",
    ] {
        assert_eq!(
            verdict(&done.checks, name),
            Verdict::Pass,
            "{:?}",
            done.checks
        );
    }
    // The report form: no token anywhere in it.
    let doc = serde_json::to_string(&done).unwrap();
    assert!(!doc.contains(&token), "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_in_json_and_a_tool_call_with_arguments() {
    let (_provider, server, token) = signed_in(json!({ "json_response": true })).await;
    let done = check(&server.url, Some(&token), Some(r#"echo:{"text":"a:b"}"#))
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(done.delivery, Delivery::Json);
    let result = done.call.unwrap().result.unwrap();
    assert_eq!(result["content"][0]["text"], "a:b", "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_only_without_its_scope_is_insufficient_scope_with_the_scope_named() {
    let (_provider, server, token) = signed_in(json!({})).await;
    let done = check(&server.url, Some(&token), Some("admin_only"))
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(verdict(&done.checks, "mcp.tools_list"), Verdict::Pass);
    assert_eq!(verdict(&done.checks, "mcp.tools_call"), Verdict::Fail);
    let call = done.call.unwrap();
    let error = call.result.unwrap_err();
    assert!(matches!(error, McpError::Forbidden { .. }), "{error:?}");
    assert_eq!(error.insufficient_scope(), Some("mcp:admin"));
    let refusal = error.refusal().unwrap();
    assert_eq!(refusal.error(), Some("insufficient_scope"));
    assert_eq!(
        refusal
            .bearer
            .as_ref()
            .unwrap()
            .resource_metadata
            .as_deref(),
        Some(server.resource_metadata.as_str())
    );
    let message = error.to_string();
    assert!(
        message.contains("HTTP 403") && message.contains("requesting \"mcp:admin\""),
        "{message}"
    );
    assert_eq!(error.to_json()["www_authenticate"]["scope"], "mcp:admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_is_401_with_the_challenge_naming_the_metadata() {
    let provider = LocalProvider::start();
    let server = McpServer::start(&provider.issuer);
    let failure = check(&server.url, None, None).await.unwrap_err();
    let McpError::Unauthorized {
        sent_token,
        refusal,
        method,
        ..
    } = &failure.error
    else {
        panic!("{:?}", failure.error)
    };
    assert!(!sent_token);
    // The first request: server/discover (2026-07-28 first), refused before the version.
    assert_eq!(method, "server/discover");
    assert_eq!(refusal.error(), Some("invalid_token"));
    let bearer = refusal.bearer.as_ref().unwrap();
    assert_eq!(
        bearer.resource_metadata.as_deref(),
        Some(server.resource_metadata.as_str())
    );
    assert_eq!(
        bearer.error_description.as_deref(),
        Some("Missing Authorization header")
    );
    assert!(
        failure.to_string().contains("it wants an access token"),
        "{failure}"
    );
    assert_eq!(failure.checks.len(), 1);
    assert_eq!(verdict(&failure.checks, "mcp.discover"), Verdict::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_resource_is_401_invalid_token() {
    let provider = LocalProvider::start();
    let server = McpServer::start(&provider.issuer);
    let elsewhere = server.url.replace("/mcp", "/other");
    let token = token_for(&provider, &elsewhere).await;
    let failure = check(&server.url, Some(&token), None).await.unwrap_err();
    let McpError::Unauthorized {
        sent_token,
        refusal,
        ..
    } = &failure.error
    else {
        panic!("{:?}", failure.error)
    };
    assert!(sent_token);
    assert_eq!(refusal.error(), Some("invalid_token"));
    assert_eq!(
        refusal
            .bearer
            .as_ref()
            .unwrap()
            .error_description
            .as_deref(),
        Some("Token was not issued for this resource")
    );
    let message = failure.to_string();
    assert!(message.contains("RFC 8707"), "{message}");
    assert!(!message.contains(&token), "{message}");
}

#[tokio::test]
async fn an_older_server_with_batches_pages_and_a_session() {
    let standin = mcp_standin::start().await;
    let done = check(
        &format!("{}/old", standin.base),
        Some("t0ken-for-the-standin"),
        None,
    )
    .await
    .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(done.protocol_version, "2025-03-26");
    assert_eq!(verdict(&done.checks, "mcp.protocol_version"), Verdict::Pass);
    let names: Vec<&str> = done.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["first", "second"], "both pages");
    assert_eq!(done.revision, "2025-03-26");
    let seen = standin.seen.lock().unwrap();
    // server/discover first, as 2026-07-28 (its headers, its _meta); refused, so initialize.
    let discover = &seen[0];
    assert_eq!(discover.message["method"], "server/discover");
    assert_eq!(discover.version.as_deref(), Some("2026-07-28"));
    assert_eq!(
        discover.message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    let seen = &seen[1..];
    let first = &seen[0];
    assert_eq!(first.message["method"], "initialize");
    assert_eq!(first.message["params"]["protocolVersion"], "2025-11-25");
    assert_eq!(
        first.message["params"]["clientInfo"]["name"],
        "oauth-test-client"
    );
    assert_eq!(
        (&first.session, &first.version),
        (&None, &None),
        "none before initialization"
    );
    assert!(seen.len() >= 4, "{seen:?}");
    for later in &seen[1..] {
        assert_eq!(
            later.session.as_deref(),
            Some("standin-session-1"),
            "{later:?}"
        );
        assert_eq!(later.version.as_deref(), Some("2025-03-26"), "{later:?}");
    }
}

#[tokio::test]
async fn the_server_asking_first_on_the_stream_is_answered() {
    let standin = mcp_standin::start().await;
    let done = check(&format!("{}/asks-first", standin.base), None, None)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(done.delivery, Delivery::Sse);
    let seen = standin.seen.lock().unwrap();
    let reply = seen
        .iter()
        .find(|s| s.message["id"] == "srv-1")
        .unwrap_or_else(|| panic!("no answer to the server's ping: {seen:?}"));
    assert_eq!(reply.message["result"], json!({}));
}

#[tokio::test]
async fn each_way_of_not_being_an_mcp_server_is_named() {
    let standin = mcp_standin::start().await;
    let url = |mode: &str| format!("{}/{mode}", standin.base);

    let f = check(&url("picky"), None, None).await.unwrap_err();
    assert!(matches!(f.error, McpError::NotAcceptable { .. }), "{f:?}");
    assert!(f.to_string().contains("HTTP 406"), "{f}");

    let f = check(&url("html"), None, None).await.unwrap_err();
    let McpError::NotJson {
        status,
        content_type,
        first_line,
        ..
    } = &f.error
    else {
        panic!("{f:?}")
    };
    assert_eq!(*status, 200);
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert_eq!(first_line.as_deref(), Some("<!DOCTYPE html>"));

    let f = check(&url("rpc-error"), None, None).await.unwrap_err();
    let McpError::JsonRpc { code, message, .. } = &f.error else {
        panic!("{f:?}")
    };
    assert_eq!(
        (*code, message.as_str()),
        (-32602, "Unsupported protocol version")
    );
    assert_eq!(f.error.to_json()["code"], -32602);

    let f = check(&url("future"), None, None).await.unwrap_err();
    assert!(
        matches!(&f.error, McpError::UnsupportedVersion { offered, .. } if offered == "2099-01-01"),
        "{f:?}"
    );
    assert_eq!(verdict(&f.checks, "mcp.initialize"), Verdict::Pass);
    assert_eq!(verdict(&f.checks, "mcp.protocol_version"), Verdict::Fail);

    let f = check("http://127.0.0.1:9/mcp", None, None)
        .await
        .unwrap_err();
    assert!(matches!(f.error, McpError::Connect { .. }), "{f:?}");
}

/// The whole MCP-aware check from one URL, as a new user runs it: only the MCP server's URL;
/// its metadata names the provider, a client is registered, the sign-in asks for the
/// metadata's scopes with the server as the `resource` (authorization and token requests),
/// and the handshake with the token names the server, its tools and a tool's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_report_from_only_the_mcp_servers_url_names_the_server_its_tools_and_every_check() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let server = McpServer::start(&provider.issuer);
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            &server.url,
            "--mcp-call",
            r#"echo:{"text":"hi"}"#,
        ],
        &[],
        dir.path(),
    );
    let done = running.sign_in_and_finish("mia", 200).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    let mcp = &doc["mcp"];
    assert!(mcp["server"]["name"].is_string(), "{mcp}");
    assert!(mcp["protocol_version"].is_string(), "{mcp}");
    let tools: Vec<&str> = mcp["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for tool in ["echo", "whoami", "admin_only"] {
        assert!(tools.contains(&tool), "{tools:?}");
    }
    assert!(
        mcp["call"].to_string().contains("hi"),
        "the tool answered: {mcp}"
    );
    let checks = doc["checks"].as_array().unwrap();
    for name in [
        "resource.rejects_without_token",
        "mcp.initialize",
        "mcp.tools_list",
        "mcp.tools_call",
        "resource.accepts_token",
    ] {
        let check = checks.iter().find(|c| c["check"] == name);
        assert_eq!(
            check.map(|c| c["result"].as_str().unwrap()),
            Some("pass"),
            "{name}: {check:?}"
        );
    }
    assert!(
        !checks.iter().any(|c| c["result"] == "fail"),
        "no check fails: {doc}"
    );
    // Asked only for what the resource names: no openid default.
    assert!(
        doc["token"]["scope"]
            .as_str()
            .is_some_and(|s| !s.contains("openid")),
        "{doc}"
    );
}

#[tokio::test]
async fn with_dpop_each_mcp_request_carries_a_proof_and_a_nonce_challenge_is_answered() {
    use base64::Engine as _;
    let standin = mcp_standin::start().await;
    let url = format!("{}/dpop", standin.base);
    let key = oauth_test_client::provider::dpop::Dpop::generate().unwrap();
    let handshake = Client::new(Duration::from_secs(10))
        .unwrap()
        .check_with_dpop(&Url::parse(&url).unwrap(), Some("tok"), None, Some(&key))
        .await
        .unwrap_or_else(|f| panic!("{:?}", f.checks));
    assert_eq!(verdict(&handshake.checks, "mcp.initialize"), Verdict::Pass);
    let seen = standin.seen.lock().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    let claims = |proof: &str| -> Value {
        let part = proof.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    for (i, s) in seen.iter().enumerate() {
        assert_eq!(s.authorization.as_deref(), Some("DPoP tok"), "{s:?}");
        let c = claims(s.dpop.as_deref().expect("a proof"));
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["htu"], url.as_str());
        assert_eq!(c["ath"], oauth_test_client::provider::dpop::ath("tok"));
        // The first proof has no nonce; it is challenged, and every later one carries it.
        assert_eq!(c.get("nonce").is_none(), i == 0, "{i}: {c}");
    }
    assert_eq!(seen[0].message["method"], "server/discover");
    assert_eq!(
        seen[1].message["method"], "server/discover",
        "sent again with the nonce"
    );
    assert_eq!(seen[2].message["method"], "initialize", "not 2026-07-28");
}

/// A pre-registered confidential client, starting from the MCP server (MCP authorization,
/// "Preregistration"): OAUTH_ISSUER with `--mcp` pins the authorization server the server's
/// metadata must name. The real provider is named: the secret goes to it and the run passes.
/// Another issuer pinned: exit 2 naming both, before anything is sent anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_issuer_lets_a_pre_registered_secret_start_from_the_mcp_server_only_when_named() {
    let provider = LocalProvider::start();
    let server = McpServer::start(&provider.issuer);
    let dir = tempfile::tempdir().unwrap();
    let args = |issuer: &str| -> Vec<String> {
        [
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--mcp",
            "--mcp-call",
            r#"echo:{"text":"hi"}"#,
            "--issuer",
            issuer,
            "--resource-url",
            &server.url,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let env = [
        ("CLIENT_ID", CONFIDENTIAL_ID),
        ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
    ];
    let named = args(&provider.issuer);
    let named: Vec<&str> = named.iter().map(String::as_str).collect();
    let done = spawn(&named, &env, dir.path())
        .sign_in_and_finish("mia", 200)
        .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stderr.contains("names OAUTH_ISSUER"),
        "{}",
        done.stderr
    );
    let doc = &done.documents()[0];
    assert!(
        doc["discovery"].as_array().is_some_and(|h| !h.is_empty()),
        "{doc}"
    );
    assert!(doc["mcp"]["call"].to_string().contains("hi"), "{doc}");
    assert!(
        !doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["result"] == "fail"),
        "{doc}"
    );
    assert!(!done.stderr.contains(CONFIDENTIAL_SECRET));

    let other = "https://as.other.example";
    let done = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        let pinned_elsewhere = args(other);
        move || {
            let args: Vec<&str> = pinned_elsewhere.iter().map(String::as_str).collect();
            spawn(&args, &env, &dir).finish(Duration::from_secs(30))
        }
    })
    .await
    .unwrap();
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains(other) && done.stderr.contains(&provider.issuer),
        "both names: {}",
        done.stderr
    );
    assert!(!done.stderr.contains(CONFIDENTIAL_SECRET));
}

/// `--mcp-revision 2025-06-18`: initialize asks the SDK's server for that protocol version,
/// and it answers with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_mcp_revision_is_asked_for_and_answered() {
    let (_provider, server, token) = signed_in(json!({})).await;
    let done = Client::new(Duration::from_secs(10))
        .unwrap()
        .asking_for("2025-06-18")
        .check(&Url::parse(&server.url).unwrap(), Some(&token), None)
        .await
        .unwrap_or_else(|f| panic!("{f}\n{:?}\n{}", f.checks, server.stderr()));
    assert_eq!(done.protocol_version, "2025-06-18");
    let check = done
        .checks
        .iter()
        .find(|c| c.check == "mcp.protocol_version")
        .unwrap();
    assert_eq!(check.result, Verdict::Pass);
    assert!(check.detail.contains("the revision asked for"), "{check:?}");
}
