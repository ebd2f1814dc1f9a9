//! Command-line options as typed in. Every option can also come from its environment
//! variable (and so from `.env`); `config` turns these raw strings into a checked `Config`.

use clap::Parser;

/// `--version`: the package version and the git revision it was built from, when known.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("OAUTH_TEST_CLIENT_REVISION"),
    ")"
);

/// Prove an OAuth 2.0 / OpenID Connect application is configured right: sign in through the
/// provider with state, PKCE (S256) and nonce, exchange the code, and print the token JSON.
///
/// Settings come from flags, then the environment, then a `.env` file in the current
/// folder (copy .env.sample to .env to start).
#[derive(Default, Parser)]
#[command(name = "oauth-test-client", version = VERSION, about, long_about = None)]
#[command(
    after_help = "More options can come from OAUTH_TEST_CLIENT_ARGS: one string, split into words as a shell would, read before the command line's own."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Clerk publishable key (pk_test_... or pk_live_...); its Frontend API is the issuer.
    #[arg(long, env = "CLERK_PUBLISHABLE_KEY")]
    #[arg(help_heading = "Provider")]
    pub publishable_key: Option<String>,

    /// Issuer URL of any OAuth 2.0 / OpenID Connect provider; wins over a publishable key.
    #[arg(long, env = "OAUTH_ISSUER")]
    #[arg(help_heading = "Provider")]
    pub issuer: Option<String>,

    /// Client ID of the OAuth application registered at the provider.
    #[arg(long, env = "CLIENT_ID")]
    #[arg(help_heading = "Client")]
    pub client_id: Option<String>,

    /// Register a new client at the provider (RFC 7591) even when CLIENT_ID is set; without
    /// CLIENT_ID this happens by itself when the provider offers registration.
    #[arg(long)]
    #[arg(help_heading = "Client")]
    pub register: bool,

    /// Register a confidential client (with a secret) instead of a public one.
    #[arg(long)]
    #[arg(help_heading = "Client")]
    pub register_confidential: bool,

    /// Client secret; leave unset for a public client (PKCE only).
    #[arg(long, env = "CLIENT_SECRET", hide_env_values = true)]
    #[arg(help_heading = "Client")]
    pub client_secret: Option<String>,

    /// HTTPS URL where you host this app's Client ID Metadata Document (see
    /// --print-client-metadata): used as the client ID, instead of registering one, by an
    /// authorization server that advertises client_id_metadata_document_supported.
    #[arg(long, env = "OAUTH_CLIENT_METADATA_URL")]
    #[arg(help_heading = "Client")]
    pub client_metadata_url: Option<String>,

    /// Print the Client ID Metadata Document to host at --client-metadata-url (JSON) and exit.
    #[arg(long)]
    #[arg(help_heading = "Client")]
    pub print_client_metadata: bool,

    /// Client authentication: client_secret_post, client_secret_basic, client_secret_jwt,
    /// private_key_jwt or none [default: private_key_jwt with OAUTH_CLIENT_KEY, else what the
    /// provider's metadata lists and the secret allow].
    #[arg(long, env = "OAUTH_AUTH_METHOD")]
    #[arg(help_heading = "Client")]
    pub auth_method: Option<String>,

    /// Path of the client's private key for private_key_jwt: a PKCS#8 PEM file (RSA, EC
    /// P-256 or Ed25519) or a private JWK.
    #[arg(long, env = "OAUTH_CLIENT_KEY")]
    #[arg(help_heading = "Client")]
    pub client_key: Option<String>,

    /// The `aud` of client assertions (private_key_jwt, client_secret_jwt): issuer or
    /// token_endpoint [default: issuer].
    #[arg(long, env = "OAUTH_ASSERTION_AUDIENCE")]
    #[arg(help_heading = "Client")]
    pub assertion_audience: Option<String>,

    /// Space-separated scopes to request.
    #[arg(long, env = "OAUTH_SCOPES")]
    #[arg(help_heading = "Client")]
    pub scopes: Option<String>,

    /// Port to listen on.
    #[arg(long, env = "PORT")]
    #[arg(help_heading = "Network")]
    pub port: Option<String>,

    /// Address to listen on [default: loopback only]; 0.0.0.0 or :: exposes the app.
    #[arg(long, env = "HOST")]
    #[arg(help_heading = "Network")]
    pub host: Option<String>,

    /// More host names the app answers to (comma-separated), beside loopback names and the
    /// redirect URI's host: e.g. the machine's name when HOST=0.0.0.0.
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',')]
    #[arg(help_heading = "Network")]
    pub allowed_hosts: Vec<String>,

    /// Redirect URI registered at the provider [default: http://localhost:<PORT>/oauth_callback].
    #[arg(long, env = "REDIRECT_URI")]
    #[arg(help_heading = "Client")]
    pub redirect_uri: Option<String>,

    /// PEM file of extra root certificates to trust for the provider.
    #[arg(long, env = "OAUTH_CA_CERT")]
    #[arg(help_heading = "Provider")]
    pub ca_cert: Option<String>,

    /// Extra authorization request parameter, key=value (repeatable; `&` also separates):
    /// prompt, login_hint, audience, resource, acr_values, provider-specific ones.
    #[arg(long = "param", env = "OAUTH_PARAMS", value_delimiter = '&')]
    #[arg(help_heading = "Client")]
    pub params: Vec<String>,

    /// Send the authorization request as a pushed authorization request (RFC 9126).
    #[arg(long, env = "OAUTH_PAR", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "Client")]
    pub par: bool,

    /// Sender-constrained tokens (DPoP, RFC 9449): a fresh ES256 key per run, a proof on
    /// the token requests and on every call made with the access token.
    #[arg(long, env = "OAUTH_DPOP", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "Client")]
    pub dpop: bool,

    /// Authorization endpoint, for providers without discovery (or to override it).
    #[arg(long, env = "OAUTH_AUTHORIZE_URL")]
    #[arg(help_heading = "Provider")]
    pub authorize_url: Option<String>,

    /// Token endpoint, for providers without discovery (or to override it).
    #[arg(long, env = "OAUTH_TOKEN_URL")]
    #[arg(help_heading = "Provider")]
    pub token_url: Option<String>,

    /// Userinfo endpoint (overrides discovery).
    #[arg(long, env = "OAUTH_USERINFO_URL")]
    #[arg(help_heading = "Provider")]
    pub userinfo_url: Option<String>,

    /// Introspection endpoint, RFC 7662 (overrides discovery).
    #[arg(long, env = "OAUTH_INTROSPECTION_URL")]
    #[arg(help_heading = "Provider")]
    pub introspection_url: Option<String>,

    /// Revocation endpoint, RFC 7009 (overrides discovery).
    #[arg(long, env = "OAUTH_REVOCATION_URL")]
    #[arg(help_heading = "Provider")]
    pub revocation_url: Option<String>,

    /// JWKS with the provider's signing keys (overrides discovery's jwks_uri).
    #[arg(long, env = "OAUTH_JWKS_URL")]
    #[arg(help_heading = "Provider")]
    pub jwks_url: Option<String>,

    /// Device authorization endpoint, RFC 8628 (overrides discovery), for --grant device.
    #[arg(long, env = "OAUTH_DEVICE_AUTHORIZATION_URL")]
    #[arg(help_heading = "Provider")]
    pub device_authorization_url: Option<String>,

    /// How to get the tokens: code (a browser sign-in and a callback), device (RFC 8628: a
    /// user code entered elsewhere, the token endpoint polled), client_credentials (the
    /// client itself, no user) or jwt_bearer (RFC 7523: a JWT the workload holds, from
    /// OAUTH_ASSERTION_FILE or GitHub Actions' OIDC token) [default: code]. All but code are
    /// one command, as with --once.
    #[arg(long, env = "OAUTH_GRANT")]
    #[arg(help_heading = "Client")]
    pub grant: Option<String>,

    /// With --grant jwt_bearer: a file holding the workload's JWT (the assertion) [default:
    /// on GitHub Actions, the runner's OIDC token, from ACTIONS_ID_TOKEN_REQUEST_URL].
    #[arg(long, env = "OAUTH_ASSERTION_FILE")]
    #[arg(help_heading = "Client")]
    pub assertion_file: Option<String>,

    /// With --grant jwt_bearer on GitHub Actions: the `audience` of the OIDC token asked for
    /// [default: the authorization server's issuer].
    #[arg(long, env = "OAUTH_WORKLOAD_AUDIENCE")]
    #[arg(help_heading = "Client")]
    pub workload_audience: Option<String>,

    /// URL of your own API, called with the access token by /api and `--then api`.
    #[arg(long, env = "RESOURCE_URL")]
    #[arg(help_heading = "Your API")]
    pub resource_url: Option<String>,

    /// HTTP method for the API call.
    #[arg(long, env = "RESOURCE_METHOD")]
    #[arg(help_heading = "Your API")]
    pub resource_method: Option<String>,

    /// RESOURCE_URL is an MCP server: after the sign-in, the MCP handshake (initialize,
    /// tools/list) with the token instead of a plain API call [default: when it refuses a GET
    /// but challenges a POST, as Streamable HTTP servers do].
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_MCP", value_parser = clap::builder::FalseyValueParser::new())]
    pub mcp: bool,

    /// With an MCP server: a tool to call after tools/list, NAME or NAME:{"arg":"value"}
    /// (`*`: the first tool it lists).
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_MCP_CALL")]
    pub mcp_call: Option<String>,

    /// With an MCP server: an override of the detected MCP revision, whose authorization
    /// rules then apply and whose protocol is spoken: 2025-03-26, 2025-06-18, 2025-11-25 or
    /// 2026-07-28 [default: detected: server/discover first, then initialize].
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_MCP_REVISION")]
    pub mcp_revision: Option<String>,

    /// Cross-app access (with OAUTH_IDP_ID_TOKEN in the environment): the enterprise IdP's
    /// issuer, whose metadata names the token endpoint where the ID token becomes an ID-JAG.
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_IDP_ISSUER")]
    pub idp_issuer: Option<String>,

    /// Cross-app access: the IdP's token endpoint itself (instead of OAUTH_IDP_ISSUER).
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_IDP_TOKEN_URL")]
    pub idp_token_url: Option<String>,

    /// Cross-app access: this app's client ID at the IdP.
    #[arg(help_heading = "Your API")]
    #[arg(long, env = "OAUTH_IDP_CLIENT_ID")]
    pub idp_client_id: Option<String>,

    /// With --once: steps to run after the code exchange, in order, comma-separated:
    /// refresh, userinfo, tokeninfo[:access], revoke[:access], api.
    #[arg(long, value_delimiter = ',')]
    #[arg(help_heading = "CI")]
    pub then: Vec<String>,

    /// Exit after the first callback: 0 with the token JSON on stdout, 1 when the flow
    /// failed, 2 for a configuration error, 3 when --timeout passed with no callback.
    #[arg(long)]
    #[arg(help_heading = "CI")]
    pub once: bool,

    /// With --once: print {"token", "id_token_claims", "checks"} instead of the bare token
    /// JSON. Any failing check makes --once exit 1 either way.
    #[arg(long)]
    #[arg(help_heading = "CI")]
    pub report: bool,

    /// With --once: after the sign-in, probe whether the provider refuses what it must (a
    /// code used twice, a wrong client secret, an old refresh token, a revoked token, an
    /// unregistered redirect URI, ...); each probe is a check in the report. Signs in again
    /// between probes that use up the tokens, so the tokens at the end are fresh.
    #[arg(long, env = "OAUTH_AUDIT", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "CI")]
    pub audit: bool,

    /// Mask token values in the JSON printed on stdout (first characters kept), for CI logs
    /// that others can read.
    #[arg(long, env = "OAUTH_REDACT", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "CI")]
    pub redact: bool,

    /// Seconds --once waits for the callback.
    #[arg(long, env = "OAUTH_TIMEOUT")]
    #[arg(help_heading = "CI")]
    pub timeout: Option<String>,

    /// Seconds each call to the provider may take.
    #[arg(long, env = "OAUTH_HTTP_TIMEOUT")]
    #[arg(help_heading = "Network")]
    pub http_timeout: Option<String>,

    /// With --once: sign in by itself as the test user (OAUTH_TEST_USERNAME and
    /// OAUTH_TEST_PASSWORD, from the environment or .env only) instead of opening a browser.
    #[arg(long, env = "OAUTH_SIGN_IN", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "Sign-in")]
    pub sign_in: bool,

    /// With --sign-in: the answer to the provider's consent page, approve or deny
    /// [default: approve].
    #[arg(long, env = "OAUTH_CONSENT")]
    #[arg(help_heading = "Sign-in")]
    pub consent: Option<String>,

    /// With --sign-in: http (reads the provider's HTML forms), browser (headless Chromium; a
    /// build with the `browser` feature), or auto (http, then the browser when http found no
    /// form) [default: auto].
    #[arg(long, env = "OAUTH_SIGN_IN_DRIVER")]
    #[arg(help_heading = "Sign-in")]
    pub sign_in_driver: Option<String>,

    /// With --sign-in: folder for the last page seen when the sign-in fails
    /// [default: a new temp folder, named on stderr].
    #[arg(long, env = "OAUTH_ARTIFACTS")]
    #[arg(help_heading = "Sign-in")]
    pub artifacts: Option<String>,

    /// With --sign-in: other origins that may receive the test user's credentials, besides
    /// the authorization endpoint's (comma-separated, https://host[:port], or http:// on
    /// loopback), for a provider whose sign-in page lives on another origin.
    #[arg(long, env = "OAUTH_SIGN_IN_ORIGINS")]
    #[arg(help_heading = "Sign-in")]
    pub sign_in_origins: Option<String>,

    /// Do not open the sign-in page in the system browser.
    #[arg(long, env = "OAUTH_NO_BROWSER", value_parser = clap::builder::FalseyValueParser::new())]
    #[arg(help_heading = "Sign-in")]
    pub no_browser: bool,

    /// Print the resolved configuration as JSON (secret masked) and exit.
    #[arg(long)]
    #[arg(help_heading = "CI")]
    pub print_config: bool,

    /// Print the public JWK set of OAUTH_CLIENT_KEY (to register at the provider) and exit.
    #[arg(long)]
    #[arg(help_heading = "CI")]
    pub print_jwks: bool,
}

/// Every option but the client secret, which shows as `[redacted]` when set. The fields are
/// listed without `..`, so a new option fails to compile until it is added here.
impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            command,
            publishable_key,
            issuer,
            client_id,
            register,
            register_confidential,
            client_secret,
            client_metadata_url,
            print_client_metadata,
            auth_method,
            client_key,
            assertion_audience,
            scopes,
            port,
            host,
            allowed_hosts,
            redirect_uri,
            ca_cert,
            params,
            par,
            dpop,
            authorize_url,
            token_url,
            userinfo_url,
            introspection_url,
            revocation_url,
            jwks_url,
            device_authorization_url,
            grant,
            assertion_file,
            workload_audience,
            resource_url,
            resource_method,
            mcp,
            mcp_call,
            mcp_revision,
            idp_issuer,
            idp_token_url,
            idp_client_id,
            then,
            once,
            report,
            audit,
            redact,
            timeout,
            http_timeout,
            sign_in,
            consent,
            sign_in_driver,
            artifacts,
            sign_in_origins,
            no_browser,
            print_config,
            print_jwks,
        } = self;
        f.debug_struct("Cli")
            .field("command", command)
            .field("publishable_key", publishable_key)
            .field("issuer", issuer)
            .field("client_id", client_id)
            .field("register", register)
            .field("register_confidential", register_confidential)
            .field(
                "client_secret",
                &client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("client_metadata_url", client_metadata_url)
            .field("print_client_metadata", print_client_metadata)
            .field("auth_method", auth_method)
            // A path, not the key.
            .field("client_key", client_key)
            .field("assertion_audience", assertion_audience)
            .field("scopes", scopes)
            .field("port", port)
            .field("host", host)
            .field("allowed_hosts", allowed_hosts)
            .field("redirect_uri", redirect_uri)
            .field("ca_cert", ca_cert)
            .field("params", params)
            .field("par", par)
            .field("dpop", dpop)
            .field("authorize_url", authorize_url)
            .field("token_url", token_url)
            .field("userinfo_url", userinfo_url)
            .field("introspection_url", introspection_url)
            .field("revocation_url", revocation_url)
            .field("jwks_url", jwks_url)
            .field("device_authorization_url", device_authorization_url)
            .field("grant", grant)
            // A path and an audience, not the assertion.
            .field("assertion_file", assertion_file)
            .field("workload_audience", workload_audience)
            .field("resource_url", resource_url)
            .field("resource_method", resource_method)
            .field("mcp", mcp)
            .field("mcp_call", mcp_call)
            .field("mcp_revision", mcp_revision)
            .field("idp_issuer", idp_issuer)
            .field("idp_token_url", idp_token_url)
            .field("idp_client_id", idp_client_id)
            .field("then", then)
            .field("once", once)
            .field("report", report)
            .field("audit", audit)
            .field("redact", redact)
            .field("timeout", timeout)
            .field("http_timeout", http_timeout)
            .field("sign_in", sign_in)
            .field("consent", consent)
            .field("sign_in_driver", sign_in_driver)
            .field("artifacts", artifacts)
            .field("sign_in_origins", sign_in_origins)
            .field("no_browser", no_browser)
            .field("print_config", print_config)
            .field("print_jwks", print_jwks)
            .finish()
    }
}

/// What the tool can print about itself instead of running.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print a completion script for SHELL on stdout (e.g. `completions bash >
    /// /etc/bash_completion.d/oauth-test-client`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout (e.g. `man > oauth-test-client.1`).
    Man,
}

impl Command {
    /// The text the command prints, generated from this CLI definition.
    pub fn render(&self) -> std::io::Result<Vec<u8>> {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let mut out = Vec::new();
        match self {
            Self::Completions { shell } => {
                clap_complete::generate(*shell, &mut cmd, "oauth-test-client", &mut out)
            }
            Self::Man => clap_mangen::Man::new(cmd).render(&mut out)?,
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn completions_and_the_man_page_come_from_this_definition() {
        let bash = Command::Completions {
            shell: clap_complete::Shell::Bash,
        }
        .render()
        .unwrap();
        let bash = String::from_utf8(bash).unwrap();
        assert!(
            bash.contains("--resource-url") && bash.contains("--once"),
            "{bash}"
        );
        let man = String::from_utf8(Command::Man.render().unwrap()).unwrap();
        assert!(man.starts_with(".ie") || man.contains(".TH"), "{man}");
        assert!(
            man.contains("resource\\-url") || man.contains("resource-url"),
            "{man}"
        );
        let cli = Cli::try_parse_from(["oauth-test-client", "completions", "zsh"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Completions { .. })));
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "oauth-test-client",
            "--issuer",
            "https://idp.example",
            "--client-id",
            "abc",
            "--once",
            "--no-browser",
        ])
        .unwrap();
        assert_eq!(cli.issuer.as_deref(), Some("https://idp.example"));
        assert_eq!(cli.client_id.as_deref(), Some("abc"));
        assert!(cli.once && cli.no_browser);
    }

    #[test]
    fn debug_never_shows_the_client_secret() {
        let cli = Cli::try_parse_from([
            "oauth-test-client",
            "--client-id",
            "abc",
            "--client-secret",
            "s3cr3t-value",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(
            shown.contains("client_secret: Some(\"[redacted]\")"),
            "{shown}"
        );
        assert!(shown.contains("client_id: Some(\"abc\")"), "{shown}");
        assert!(format!("{:?}", Cli::default()).contains("client_secret: None"));
    }
}
