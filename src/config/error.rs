//! `ConfigError`: every configuration mistake, each message naming the setting, what is
//! wrong with its value, and the fix.

use std::path::PathBuf;

use super::defaults::DEFAULT_PORT;
use crate::clerk::KeyError;
use crate::oauth::{McpRevision, Step};
use crate::signin::{DriverError, TotpKeyError};

/// A configuration mistake: exit status 2, one message, nothing secret in it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no provider configured: set CLERK_PUBLISHABLE_KEY (Clerk dashboard > API keys) or \
         OAUTH_ISSUER (any provider's issuer URL), or RESOURCE_URL to start from your API's \
         protected-resource metadata. To start, copy .env.sample to .env and fill it in"
    )]
    NoProvider,
    #[error(
        "--grant jwt_bearer needs the workload's JWT: set OAUTH_ASSERTION_FILE to a file holding \
         it, or run on GitHub Actions with `permissions: id-token: write` (which sets \
         ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN)"
    )]
    NoWorkloadAssertion,
    #[error("OAUTH_ASSERTION_FILE {}: {problem}", .path.display())]
    AssertionFile { path: PathBuf, problem: String },
    #[error(
        "ACTIONS_ID_TOKEN_REQUEST_URL {value:?} is not usable: {problem} (GitHub Actions sets it; \
         a request token is only ever sent over https)"
    )]
    WorkloadUrl { value: String, problem: String },
    #[error(
        "CLERK_PUBLISHABLE_KEY is not a publishable key: {0}. A key looks like pk_test_ or \
         pk_live_ followed by base64 text; copy it from the Clerk dashboard > API keys"
    )]
    PublishableKey(KeyError),
    #[error("OAUTH_ISSUER {value:?} is not a usable issuer URL: {problem}")]
    Issuer { value: String, problem: String },
    #[error(
        "CLIENT_ID is not set, and the provider offers no dynamic client registration: copy the \
         client ID of your OAuth application from the provider's dashboard into .env \
         (CLIENT_ID=...) or pass --client-id; or turn on dynamic client registration at the \
         provider (its metadata then lists a registration_endpoint)"
    )]
    NoClientId,
    #[error(
        "PORT {0:?} is not a port number: use a number from 0 to 65535 (default {DEFAULT_PORT})"
    )]
    Port(String),
    #[error(
        "HOST {0:?} is not an IP address: use 127.0.0.1, ::1 or localhost (loopback, the default), \
         or 0.0.0.0 to listen on every interface"
    )]
    Host(String),
    #[error(
        "ALLOWED_HOSTS entry {0:?} is not a host name: list names or addresses without scheme or \
         port, comma-separated, e.g. ALLOWED_HOSTS=my-laptop.lan,192.168.1.20"
    )]
    AllowedHost(String),
    #[error(
        "OAUTH_SIGN_IN_ORIGINS entry {value:?} is not an origin that may receive the test user's \
         credentials: {problem}. List origins comma-separated, each https://host[:port] (or \
         http:// on localhost / 127.0.0.1 / ::1), without a path"
    )]
    SignInOrigin {
        value: String,
        problem: &'static str,
    },
    #[error("REDIRECT_URI {value:?} is not usable: {problem}")]
    Redirect { value: String, problem: String },
    #[error("OAUTH_CA_CERT {path:?} cannot be used: {problem}")]
    CaCert { path: PathBuf, problem: String },
    #[error("{name} {value:?} is not usable: {problem}")]
    Endpoint {
        name: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL go together: a provider without discovery needs both"
    )]
    HalfManual,
    #[error(
        "OAUTH_AUTH_METHOD {0:?} is not one this client supports: use client_secret_post, \
         client_secret_basic, client_secret_jwt, private_key_jwt or none"
    )]
    AuthMethod(String),
    #[error(
        "OAUTH_CLIENT_KEY {path:?} cannot be used: {problem}. Give the path of the client's \
         private key: a PKCS#8 PEM file (RSA, EC P-256 or Ed25519) or a private JWK (JSON)"
    )]
    ClientKey { path: PathBuf, problem: String },
    #[error(
        "{0} needs OAUTH_CLIENT_KEY (--client-key): the path of the client's private key, a \
         PKCS#8 PEM file (RSA, EC P-256 or Ed25519) whose public key is registered at the provider"
    )]
    NeedsClientKey(&'static str),
    #[error("OAUTH_ASSERTION_AUDIENCE {0:?} is not one of issuer (the default) or token_endpoint")]
    AssertionAudience(String),
    #[error("OAUTH_AUTH_METHOD={0} needs CLIENT_SECRET: set it, or use none for a public client")]
    AuthMethodNeedsSecret(&'static str),
    #[error("--param {0:?} is not key=value: e.g. --param audience=https://api.example.com")]
    Param(String),
    #[error(
        "--param {0}=... is set by the client itself (state, PKCE, nonce, redirect, response type and \
         mode, request objects): it cannot be overridden"
    )]
    ReservedParam(String),
    #[error("--param scope=... : set the scopes with OAUTH_SCOPES (--scopes) instead")]
    ScopeParam,
    #[error("RESOURCE_URL {value:?} is not usable: {problem}")]
    Resource { value: String, problem: String },
    #[error(
        "OAUTH_CLIENT_METADATA_URL {value:?} is not usable as a Client ID Metadata Document URL: \
         {problem} (draft-ietf-oauth-client-id-metadata-document, section 3)"
    )]
    ClientMetadataUrl { value: String, problem: String },
    #[error(
        "--print-client-metadata prints the document to host at OAUTH_CLIENT_METADATA_URL: set \
         OAUTH_CLIENT_METADATA_URL (or --client-metadata-url) to the https URL where you will host it"
    )]
    PrintClientMetadataNeedsUrl,
    #[error(
        "--print-client-metadata needs a fixed redirect URI to list in the document, but PORT is 0 \
         (a free port picked at start): set PORT to the port you will run on, or REDIRECT_URI"
    )]
    PrintClientMetadataNeedsPort,
    #[error(
        "OAUTH_ISSUER is {issuer}, but RESOURCE_URL's metadata names the authorization server \
         {named}: nothing is sent to {named}. If {named} is the right server, set \
         OAUTH_ISSUER={named} (and its CLIENT_ID and CLIENT_SECRET); otherwise the MCP server \
         is configured for another authorization server than yours"
    )]
    PinnedIssuerNotNamed { issuer: String, named: String },
    #[error("OAUTH_MCP_REVISION {0:?} is not an MCP revision: use {names}", names = McpRevision::NAMES)]
    McpRevision(String),
    #[error("RESOURCE_METHOD {0:?} is not an HTTP method: use GET, POST, PUT, PATCH or DELETE")]
    ResourceMethod(String),
    #[error("--then {0:?} is not a step: use a comma-separated list of {names}", names = Step::NAMES)]
    Then(String),
    #[error("{0} works with the one-shot sign-in of --once: add --once")]
    NeedsOnce(&'static str),
    #[error(
        "OAUTH_GRANT (--grant) {0:?} is not a grant this client runs: use {names}",
        names = crate::oauth::Grant::NAMES
    )]
    Grant(String),
    #[error(
        "--then {step} cannot follow --grant {grant}: {why}. Drop it (steps for this grant: \
         api, tokeninfo:access, revoke:access)"
    )]
    StepNotForGrant {
        step: String,
        grant: &'static str,
        why: &'static str,
    },
    #[error("{option} does not apply to --grant {grant}: {why}")]
    NotForGrant {
        option: &'static str,
        grant: &'static str,
        why: &'static str,
    },
    #[error(
        "--audit (OAUTH_AUDIT) and --dpop (OAUTH_DPOP) cannot run together: the probes redeem \
         codes and tokens without a proof, so a DPoP-bound provider would refuse them for that \
         reason and every probe would pass for the wrong one. Run the audit without --dpop"
    )]
    AuditWithDpop,
    #[error("{name} {value:?} is not a number of seconds: use a whole number above 0")]
    Seconds { name: &'static str, value: String },
    #[error(
        "--sign-in (OAUTH_SIGN_IN) signs in as a test user: set {0} in the environment or .env \
         (never as flags, which other users of the machine can read)"
    )]
    SignInCredentials(String),
    #[error("--consent (OAUTH_CONSENT) {0:?} is not an answer: use approve or deny")]
    Consent(String),
    #[error(transparent)]
    SignInDriver(#[from] DriverError),
    #[error("OAUTH_TEST_TOTP_SECRET is not a base32 authenticator secret: {0}")]
    TotpSecret(TotpKeyError),
    #[error(
        "OAUTH_TEST_TOTP_SECRET and OAUTH_TEST_CODE are both set: set one (the authenticator's \
         secret, or a fixed code)"
    )]
    TwoCodes,
    #[error(transparent)]
    CrossApp(#[from] CrossAppProblem),
}

/// A cross-app access setting that cannot work, and its fix.
#[derive(Debug, thiserror::Error)]
pub enum CrossAppProblem {
    #[error(
        "OAUTH_IDP_ID_TOKEN is set (cross-app access), but not where to exchange it: set \
         OAUTH_IDP_ISSUER (--idp-issuer, the IdP's issuer URL) or OAUTH_IDP_TOKEN_URL \
         (--idp-token-url, its token endpoint)"
    )]
    NoIdp,
    #[error(
        "OAUTH_IDP_ISSUER and OAUTH_IDP_TOKEN_URL are both set: set one (the issuer, whose \
         metadata names the token endpoint, or the token endpoint itself)"
    )]
    TwoIdps,
    #[error("{name} {value:?} is not usable: {problem}")]
    Url {
        name: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "cross-app access (OAUTH_IDP_ID_TOKEN) gets a token for one resource: set RESOURCE_URL \
         (--resource-url) to the MCP server or API"
    )]
    NoResource,
    #[error(
        "cross-app access (OAUTH_IDP_ID_TOKEN) needs the client registered at the authorization \
         server: set CLIENT_ID (and CLIENT_SECRET for a confidential client)"
    )]
    NoClientId,
    #[error(
        "{0} does not work with cross-app access (OAUTH_IDP_ID_TOKEN), which has no sign-in \
         session: drop it, or unset OAUTH_IDP_ID_TOKEN to sign in with a browser"
    )]
    NotWith(&'static str),
}
