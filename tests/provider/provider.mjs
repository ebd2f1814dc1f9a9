// A real OpenID provider for the integration tests: panva's oidc-provider, configured to
// look like Clerk's OAuth server from a client's point of view (same paths, refresh tokens
// issued with the code grant, introspection at /oauth/token_info, JWKS at
// /.well-known/jwks.json). Its own login and consent forms (devInteractions) are used.
//
// Usage: node provider.mjs '<json options>'
//   options.https      {cert, key}: PEM file paths; serve HTTPS instead of HTTP
//   options.host       issuer host name (default 127.0.0.1; "localhost" for Clerk mode)
//   options.clients    array of oidc-provider client metadata (defaults below)
//   options.extra_clients  array: clients added to those (the conformance suite's own)
//   options.discovery  false: answer 404 on both discovery documents
//   options.registration  true: offer dynamic client registration (RFC 7591)
//   options.jwt_access_tokens  true: access tokens for a resource indicator are JWTs (RFC 9068)
//   options.misbehave  one way to break the ID token (or userinfo), for the verification
//                      tests: the real provider runs the flow, then its token response is
//                      altered on the way out (see MISBEHAVIOURS below)
//   options.interactions  this file's own sign-in pages instead of devInteractions (which take
//                      any password), for the sign-in driver's tests. Passwords are checked
//                      (TEST_USERS below); a wrong one shows the page again, HTTP 401, with
//                      <p class="error" role="alert">Invalid password</p>. Every form carries
//                      a hidden CSRF token that must come back. One of:
//                      "password"          username and password on one page
//                      "identifier_first"  an email page, then a password page
//                      "totp"              username and password, then a one-time code checked
//                                          against TEST_TOTP_SECRET (RFC 6238, SHA-1, 30 s, 6 digits)
//                      "script_form"       a page whose form only a script builds
//                      "spa"               a single-page app: no <form>, type=button buttons,
//                                          an email step then a password step drawn in place
//                                          after fetch() calls (POST .../spa-identifier and
//                                          .../spa-password, JSON), a wrong password shown
//                                          inline, and a script navigation once signed in
//                      "clerk_testing"     like script_form, but the script first asks a
//                                          stand-in of Clerk's Frontend API (GET /v1/client on
//                                          this server), which refuses ("Bot traffic detected")
//                                          without a __clerk_testing_token this server issued,
//                                          and answers captcha_bypass: false with one; the form
//                                          is built only when captcha_bypass is true (as
//                                          @clerk/testing rewrites it). POST /v1/testing_tokens
//                                          with "Authorization: Bearer sk_test_standin" is a
//                                          stand-in of Clerk's Backend API that issues tokens.
//                      "hostile"           a provider that tries to get the password elsewhere,
//                                          for the credential-origin tests: options.hostile =
//                                          {trick, foreign} (foreign: another origin's base URL);
//                                          tricks: "redirect" (the authorization endpoint sends the
//                                          browser to {foreign}/login?return=<this interaction's
//                                          /sso>), "meta_refresh" (the sign-in page refreshes to
//                                          there), "action" (the password form posts to
//                                          {foreign}/collect), "formaction" (its button does),
//                                          "get" (the password form is method=get), "307"/"308"
//                                          (the password POST is answered with a 307/308 to
//                                          {foreign}/collect), "sso" (the sign-in page sends the
//                                          browser to {foreign}/login?return=<its /sso>, within
//                                          the interaction cookie's path). GET <interaction>/sso
//                                          signs the test user in, as a federated login's return
//                                          would.
//                      Consent: one form with Deny and Allow buttons (decision=deny|allow);
//                      Deny answers access_denied.
//   options.split_metadata  true: the OpenID discovery document lacks revocation_endpoint,
//                      introspection_endpoint and registration_endpoint, which only the RFC 8414
//                      document (/.well-known/oauth-authorization-server) lists, as
//                      django-oauth-toolkit serves them; "other_issuer": the RFC 8414 document
//                      also names another issuer
//   options.listed_auth_methods  array: the token_endpoint_auth_methods_supported both
//                      discovery documents advertise (what the provider accepts is unchanged)
//   options.introspect_access_tokens_only  true: introspecting a refresh token answers
//                      {"active": false}, as django-oauth-toolkit does
//   options.dpop  "nonce": DPoP (RFC 9449, on by default in oidc-provider) with nonces
//                      required, so each server's first proof is answered use_dpop_nonce
//   options.token_type  a token_type to put in every token response instead of the real
//                      one ("Bearer" for a DPoP-bound token: a provider that ignores DPoP)
//   options.cimd       {redirect_uris}: a stand-in for an authorization server that supports
//                      Client ID Metadata Documents: both discovery documents advertise
//                      client_id_metadata_document_supported, GET /client-metadata.json serves
//                      the document, and a client with that URL as its client_id and the
//                      document's metadata is loaded (oidc-provider fetches no documents itself)
//   options.device_interval  seconds: the `interval` added to the device authorization
//                      response (oidc-provider sends none, so clients wait the default 5 s)
//   options.device_verification_uri_complete  a URL put in the device authorization response
//                      as verification_uri_complete (file:///..., another origin)
//   options.device_code_ttl  seconds a device code lives (default 600), for the expiry test
//   options.timing  true: GET /__timing answers {"requests": N, "busy_ms": T} for the requests
//                      answered since the last such call (T: the sum of their times, from the
//                      request to its last byte), and starts counting again; bench/signin.sh
//   options.pkce_required  "all" (the default: OAuth 2.1, every client), "public" (oidc-provider's
//                      own default: confidential clients may skip PKCE), or "none" (a public
//                      client too: the misconfiguration --audit looks for)
//   options.rotate_refresh_tokens  false: a refresh token is reused, never rotated
//   options.audit_misbehave  array: ways to get wrong what --audit probes, each from
//                      middleware around the real provider:
//                      "listed_plain"        discovery lists code_challenge_methods_supported
//                                            ["plain", "S256"]
//                      "token_cacheable"     token responses lose Cache-Control: no-store
//                      "secret_unchecked"    invalid_client becomes invalid_grant (HTTP 400), as
//                                            if the client were checked after the code
//                      "loose_redirect_uri"  an authorization request whose redirect_uri is not
//                                            registered goes on with a registered one
//                      "code_replay"         a code redeemed again gets its first response again
//                      "revocation_noop"     revocation answers 200 and revokes nothing
//                      "refresh_replay"      a refresh token used again gets its first response
//                                            again (rotation without reuse refusal)
//                      "code_lax"            a code is redeemed whatever its PKCE verifier (or
//                                            none) and redirect_uri
//                      "scope_dropped"       token responses lose their `scope`
//                      "scope_refused"       (not a misbehaviour: the other correct answer) an
//                                            authorization request with an unknown scope is
//                                            refused with invalid_scope at the redirect URI
//   options.revoke_grant_with_access_token  true: revoking an access token revokes its whole
//                      grant, refresh token included (RFC 7009 section 2.1 allows it; as
//                      django-oauth-toolkit does)
//   options.hang_later_codes  true: the token endpoint redeems the first authorization code
//                      it sees (and that one again), and never answers for any other, as a
//                      sign-in that times out after the first
//   options.refuse_public_at_token  true: the token endpoint refuses every request of a
//                      client without authentication (token_endpoint_auth_method none) with
//                      unauthorized_client, after registering it as asked (a server that
//                      stores public clients as confidential)
//   options.empty_401  true: a request the real provider would answer (introspection and
//                      revocation without an Authorization header, as a public client sends
//                      them; client credentials without `scope`) gets HTTP 401 with an empty
//                      body instead, and the metadata lists
//                      introspection_endpoint_auth_methods_supported and
//                      revocation_endpoint_auth_methods_supported ["client_secret_basic"]
// Prints one JSON line {"issuer": "...", "port": N} on stdout once it listens, and exits
// when its standard input closes, so a test that dies never leaves it behind.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] || '{}');
const host = options.host || '127.0.0.1';

const defaultClients = [
  {
    client_id: 'test-confidential',
    client_secret: 'test-confidential-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // native: loopback redirect URIs match on any port (RFC 8252 section 7.3).
    application_type: 'native',
    redirect_uris: ['http://localhost:3000/oauth_callback', 'http://127.0.0.1:3000/oauth_callback'],
  },
  {
    client_id: 'test-basic',
    // Every character that breaks Basic auth when a client skips the form-encoding step.
    client_secret: 'p+a/s:s$w%rd=',
    token_endpoint_auth_method: 'client_secret_basic',
    introspection_endpoint_auth_method: 'client_secret_basic',
    revocation_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'native',
    redirect_uris: ['http://localhost:3000/oauth_callback', 'http://127.0.0.1:3000/oauth_callback'],
  },
  {
    // Machine to machine (RFC 6749 section 4.4): no user, no redirect.
    client_id: 'test-machine',
    client_secret: 'test-machine-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    introspection_endpoint_auth_method: 'client_secret_basic',
    revocation_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'api:read api:write',
  },
  {
    // A CLI or a TV (RFC 8628): the device grant, and refresh.
    client_id: 'test-device',
    client_secret: 'test-device-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'test-public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'native',
    redirect_uris: ['http://localhost:3000/oauth_callback', 'http://127.0.0.1:3000/oauth_callback'],
  },
];

const server = options.https
  ? https.createServer({
    cert: fs.readFileSync(options.https.cert),
    key: fs.readFileSync(options.https.key),
  })
  : http.createServer();

// The tests' own signing keys, so tokens can be re-signed the ways a broken provider would.
const keys = {};
for (const [name, alg] of [['main', 'RS256'], ['second', 'RS256'], ['rotated', 'RS256'],
  ['unknown', 'RS256'], ['ec', 'ES256'], ['ed', 'EdDSA']]) {
  // eslint-disable-next-line no-await-in-loop
  const pair = await jose.generateKeyPair(alg, { extractable: true });
  // eslint-disable-next-line no-await-in-loop
  const pub = { ...(await jose.exportJWK(pair.publicKey)), kid: name, alg, use: 'sig' };
  // eslint-disable-next-line no-await-in-loop
  const priv = { ...(await jose.exportJWK(pair.privateKey)), kid: name, alg, use: 'sig' };
  keys[name] = { alg, pair, pub, priv };
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function sign(claims, keyName, { kid = true, alg } = {}) {
  const key = keys[keyName];
  const header = { alg: alg || key.alg, typ: 'JWT' };
  if (kid) header.kid = keyName;
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key.pair.privateKey);
}

// Each: (claims) => Promise<id_token string>. Claims are the real ID token's, decoded.
const MISBEHAVIOURS = {
  bad_signature: async (c) => {
    const [h, , s] = (await sign(c, 'main')).split('.');
    return `${h}.${b64({ ...c, name: 'Mallory' })}.${s}`;
  },
  alg_none: async (c) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(c)}.`,
  hmac_with_public_key: async (c) => {
    // The classic key confusion: HS256 keyed with the provider's public RSA key.
    const pem = await jose.exportSPKI(keys.main.pair.publicKey);
    return new jose.SignJWT(c).setProtectedHeader({ alg: 'HS256', kid: 'main' })
      .sign(new TextEncoder().encode(pem));
  },
  unknown_kid: async (c) => sign(c, 'unknown'),
  rotated_kid: async (c) => sign(c, 'rotated'),
  no_kid_one_key: async (c) => sign(c, 'main', { kid: false }),
  no_kid_several_keys: async (c) => sign(c, 'second', { kid: false }),
  // HS256 keyed with the client's own secret is legitimate (OpenID Connect Core 10.1).
  hs256_client_secret: async (c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode('test-confidential-secret')),
  es256: async (c) => sign(c, 'ec'),
  eddsa: async (c) => sign(c, 'ed'),
  wrong_iss: async (c) => sign({ ...c, iss: 'https://attacker.example' }, 'main'),
  wrong_aud: async (c) => sign({ ...c, aud: 'someone-else' }, 'main'),
  missing_aud: async ({ aud, ...c }) => sign(c, 'main'),
  wrong_azp: async (c) => sign({ ...c, azp: 'someone-else' }, 'main'),
  missing_sub: async ({ sub, ...c }) => sign(c, 'main'),
  missing_iat: async ({ iat, ...c }) => sign(c, 'main'),
  expired: async (c) => sign({ ...c, iat: now() - 7200, exp: now() - 3600 }, 'main'),
  missing_nonce: async ({ nonce, ...c }) => sign(c, 'main'),
  wrong_nonce: async (c) => sign({ ...c, nonce: 'not-the-nonce-you-sent' }, 'main'),
  wrong_at_hash: async (c) => sign({ ...c, at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }, 'main'),
  // Seen on a real provider (issue 23): a sign-in "in 1970".
  auth_time_zero: async (c) => sign({ ...c, auth_time: 0 }, 'main'),
};

// The JWKS a misbehaving provider serves.
let jwksFetches = 0;
function servedJwks(mode) {
  jwksFetches += 1;
  const set = [keys.main.pub];
  if (mode === 'no_kid_several_keys') set.push(keys.second.pub);
  if (mode === 'rotated_kid' && jwksFetches > 1) set.push(keys.rotated.pub);
  if (mode === 'es256') set.push(keys.ec.pub);
  if (mode === 'eddsa') set.push(keys.ed.pub);
  return { keys: set };
}

// --- options.interactions: the sign-in driver's test pages ---------------------------------
export const TEST_USERS = { 'ci@example.com': 'correct horse battery staple' };
export const TEST_TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.toUpperCase().replace(/[\s=-]/g, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function totpAt(step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(TEST_TOTP_SECRET)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16)
    | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1000000).padStart(6, '0');
}

function totpValid(code) {
  const step = Math.floor(Date.now() / 30000);
  return [step - 1, step, step + 1].some((s) => totpAt(s) === code);
}

const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`);
}

async function jsonBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try { return JSON.parse(Buffer.concat(chunks).toString() || '{}'); } catch { return {}; }
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

// Per interaction: its CSRF token, the email given, whether the password was right.
const pending = new Map();

// --- options.interactions "clerk_testing": stand-ins for Clerk's two APIs -------------------
export const CLERK_STANDIN_SECRET_KEY = 'sk_test_standin';
const testingTokens = new Set();

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function clerkStandIn(req, res) {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/v1/testing_tokens') {
    if (req.headers.authorization !== `Bearer ${CLERK_STANDIN_SECRET_KEY}`) {
      return json(res, 401, {
        errors: [{ code: 'authentication_invalid', message: 'Unauthorized', long_message: 'The provided Secret Key is invalid.' }],
      });
    }
    const token = `${Math.floor(Date.now() / 1000)}-${crypto.randomBytes(12).toString('hex')}`;
    testingTokens.add(token);
    return json(res, 200, { object: 'testing_token', token, expires_at: Math.floor(Date.now() / 1000) + 60 });
  }
  if (req.method === 'GET' && url.pathname === '/v1/client') {
    if (!testingTokens.has(url.searchParams.get('__clerk_testing_token'))) {
      return json(res, 401, {
        errors: [{ code: 'bot_traffic_detected', message: 'Bot traffic detected', long_message: 'Automated traffic is refused without a testing token.' }],
      });
    }
    return json(res, 200, { response: { object: 'client', captcha_bypass: false }, client: null });
  }
  return json(res, 404, { errors: [{ code: 'resource_not_found', message: 'not found' }] });
}

async function customInteraction(provider, mode, req, res) {
  const [, , uid, action] = new URL(req.url, 'http://x').pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (!pending.has(uid)) pending.set(uid, { csrf: crypto.randomBytes(16).toString('hex') });
  const state = pending.get(uid);
  const base = `/interaction/${uid}`;
  const csrf = `<input type="hidden" name="csrf" value="${state.csrf}">`;
  const error = (text) => (text ? `<p class="error" role="alert">${esc(text)}</p>` : '');
  const cancel = `<p><a href="${base}/abort">Cancel</a></p>`;
  const finish = (result, merge = false) => provider.interactionFinished(req, res, result, {
    mergeWithLastSubmission: merge,
  });

  const identifierPage = (status, message) => page(res, status, 'Sign in', `${error(message)}
<form method="post" action="${base}/identifier">${csrf}
  <label>Email <input type="email" name="email" autocomplete="username" required autofocus></label>
  <button type="submit">Next</button>
</form>${cancel}`);
  const passwordPage = (status, message) => page(res, status, 'Sign in', `${error(message)}
<form method="post" action="${base}/password">${csrf}
  ${mode === 'identifier_first'
    ? `<p>Signing in as <strong>${esc(state.email)}</strong></p>`
    : '<label>Username <input type="text" name="username" autocomplete="username" required></label>'}
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <button type="submit" name="action" value="sign-in">Sign in</button>
</form>${cancel}`);
  const totpPage = (status, message) => page(res, status, 'Two-step verification', `${error(message)}
<form method="post" action="${base}/totp">${csrf}
  <label>Code from your authenticator app
    <input type="text" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required></label>
  <button type="submit">Verify</button>
</form>${cancel}`);
  const scriptPage = () => page(res, 200, 'Sign in', `<div id="app">Loading…</div>
<script>document.getElementById('app').innerHTML = '<form method="post" action="${base}/password">'
  + '${csrf}<input name="username"><input type="password" name="password"><button>Sign in</button></form>';</script>`);

  // The form appears only once the Frontend API stand-in let the page through.
  const clerkPage = () => page(res, 200, 'Sign in', `<div id="app">Loading…</div>
<script>
fetch('/v1/client?_clerk_js_version=5')
  .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
  .then(({ ok, body }) => {
    const app = document.getElementById('app');
    if (!ok || !body.response || body.response.captcha_bypass !== true) {
      app.innerHTML = '<p class="error" role="alert"></p>';
      app.firstChild.textContent = (body.errors && body.errors[0] && body.errors[0].message) || 'CAPTCHA required';
      return;
    }
    app.innerHTML = '<form method="post" action="${base}/password">'
      + '${csrf}<input name="username" autocomplete="username"><input type="password" name="password">'
      + '<button type="submit">Continue</button></form>';
  });
</script>`);

  // Everything drawn by the script, in place; each step's answer comes a moment after the
  // fetch() returns, as a framework's re-render would.
  const spaPage = () => page(res, 200, 'Sign in', `<div id="app">Loading…</div>
<script>
const app = document.getElementById('app');
const post = (action, body) => fetch('${base}/' + action, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ ...body, csrf: '${state.csrf}' }),
});
function draw(html, error) {
  app.innerHTML = (error ? '<p class="error" role="alert"></p>' : '') + html;
  if (error) app.querySelector('.error').textContent = error;
}
function email(error) {
  draw('<label>Email address <input id="identifier-field" name="identifier" type="text" autocomplete="username"></label>'
    + ' <button type="button" class="primary">Continue</button>', error);
  app.querySelector('button').onclick = async () => {
    const r = await post('spa-identifier', { email: app.querySelector('input').value });
    const answer = await r.json();
    setTimeout(() => (r.ok ? password() : email(answer.error)), 100);
  };
}
function password(error) {
  draw('<label>Password <input id="password-field" name="password" type="password"></label>'
    + ' <button type="button" class="primary">Continue</button>', error);
  app.querySelector('button').onclick = async () => {
    const r = await post('spa-password', { password: app.querySelector('input').value });
    const answer = await r.json();
    setTimeout(() => (r.ok ? location.assign(answer.redirect) : password(answer.error)), 100);
  };
}
setTimeout(() => email(), 100);
</script>`);

  const hostile = mode === 'hostile' ? options.hostile : null;
  const scheme = options.https ? 'https' : 'http';
  const sso = `${scheme}://${req.headers.host}${base}/sso`;
  if (hostile && req.method === 'GET' && action === 'sso') {
    return finish({ login: { accountId: 'ci@example.com' } });
  }
  if (hostile && req.method === 'GET' && details.prompt.name !== 'consent') {
    const foreign = hostile.foreign;
    const fields = `${csrf}
  <label>Username <input type="text" name="username" autocomplete="username"></label>
  <label>Password <input type="password" name="password" autocomplete="current-password"></label>`;
    switch (hostile.trick) {
      case 'sso':
        res.writeHead(302, { location: `${foreign}/login?return=${encodeURIComponent(sso)}` });
        return res.end();
      case 'meta_refresh':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(`<!DOCTYPE html><html><head><title>Redirecting</title>
<meta http-equiv="refresh" content="0; url=${esc(`${foreign}/login?return=${encodeURIComponent(sso)}`)}"></head><body></body></html>`);
      case 'action':
        return page(res, 200, 'Sign in', `<form method="post" action="${esc(foreign)}/collect">${fields}
  <button type="submit">Sign in</button></form>`);
      case 'formaction':
        return page(res, 200, 'Sign in', `<form method="post" action="${base}/password">${fields}
  <button type="submit" formaction="${esc(foreign)}/collect">Sign in</button></form>`);
      case 'get':
        return page(res, 200, 'Sign in', `<form method="get" action="${base}/password">${fields}
  <button type="submit">Sign in</button></form>`);
      default:
        return passwordPage(200);
    }
  }
  if (hostile && req.method === 'POST' && action === 'password' && ['307', '308'].includes(hostile.trick)) {
    res.writeHead(Number(hostile.trick), { location: `${hostile.foreign}/collect` });
    return res.end();
  }
  if (hostile && req.method === 'GET' && action === 'password') {
    return page(res, 400, 'Refused', error('A password in a URL: refused.'));
  }

  if (req.method === 'GET' && action === 'abort') {
    return finish({ error: 'access_denied', error_description: 'End-User aborted interaction' });
  }
  if (req.method === 'GET') {
    if (details.prompt.name === 'consent') {
      const scopes = details.prompt.details.missingOIDCScope || [];
      return page(res, 200, 'Authorize', `
<form method="post" action="${base}/consent">${csrf}
  <p>${esc(details.params.client_id)} asks for: ${esc(scopes.join(' '))}</p>
  <button type="submit" name="decision" value="deny">Deny</button>
  <button type="submit" name="decision" value="allow">Allow</button>
</form>`);
    }
    if (mode === 'script_form') return scriptPage();
    if (mode === 'clerk_testing') return clerkPage();
    if (mode === 'spa') return spaPage();
    if (mode === 'identifier_first' && !state.email) return identifierPage(200);
    if (mode === 'totp' && state.passwordOk) return totpPage(200);
    return passwordPage(200);
  }

  if (action === 'spa-identifier' || action === 'spa-password') {
    const answer = await jsonBody(req);
    if (answer.csrf !== state.csrf) return json(res, 403, { error: 'The form expired.' });
    if (action === 'spa-identifier') {
      if (!TEST_USERS[answer.email]) return json(res, 401, { error: 'Unknown user' });
      state.email = answer.email;
      return json(res, 200, {});
    }
    if (!state.email || TEST_USERS[state.email] !== answer.password) {
      return json(res, 401, { error: 'Invalid password' });
    }
    const redirect = await provider.interactionResult(req, res, { login: { accountId: state.email } });
    return json(res, 200, { redirect });
  }
  const body = await formBody(req);
  if (body.csrf !== state.csrf) return page(res, 403, 'Forbidden', error('The form expired (CSRF token mismatch).'));
  switch (action) {
    case 'identifier':
      if (!TEST_USERS[body.email]) return identifierPage(401, 'Unknown user');
      state.email = body.email;
      res.writeHead(303, { location: base });
      return res.end();
    case 'password': {
      const user = mode === 'identifier_first' ? state.email : body.username;
      if (!user || TEST_USERS[user] !== body.password) return passwordPage(401, 'Invalid password');
      if (mode === 'totp') {
        state.email = user;
        state.passwordOk = true;
        res.writeHead(303, { location: base });
        return res.end();
      }
      return finish({ login: { accountId: user } });
    }
    case 'totp':
      if (!state.passwordOk) return page(res, 403, 'Forbidden', error('Sign in first.'));
      if (!totpValid(body.otp)) return totpPage(401, 'Invalid code');
      return finish({ login: { accountId: state.email } });
    case 'consent': {
      if (body.decision !== 'allow') {
        return finish({ error: 'access_denied', error_description: 'End-User denied consent' }, true);
      }
      const { prompt: { details: missing }, grantId, session, params } = details;
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (missing.missingResourceScopes) {
        for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
          grant.addResourceScope(indicator, scope.join(' '));
        }
      }
      return finish({ consent: { grantId: await grant.save() } }, true);
    }
    default:
      return page(res, 404, 'Not found', error('No such page.'));
  }
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const scheme = options.https ? 'https' : 'http';
  const issuer = `${scheme}://${host}:${port}`;

  const cimd = options.cimd && {
    client_id: `${issuer}/client-metadata.json`,
    client_name: 'oauth-test-client',
    redirect_uris: options.cimd.redirect_uris,
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  const provider = new Provider(issuer, {
    clients: [...(options.clients || defaultClients), ...(options.extra_clients || []), ...(cimd ? [cimd] : [])],
    cookies: { keys: ['oauth-test-client-tests-only'] },
    jwks: { keys: [keys.main.priv, keys.ec.priv, keys.ed.priv] },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA', 'HS256'],
    },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: `${sub}@example.test`,
            email_verified: true,
            name: `Test User ${sub}`,
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'public_metadata', 'private_metadata',
      'api:read', 'api:write'],
    features: {
      devInteractions: { enabled: !options.interactions },
      introspection: {
        enabled: true,
        ...(options.introspect_access_tokens_only
          ? { allowedPolicy: async (_ctx, _client, token) => token.kind !== 'RefreshToken' }
          : {}),
      },
      revocation: { enabled: true },
      dPoP: options.dpop === 'nonce'
        ? { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
        : { enabled: true },
      // RFC 8707: any resource indicator names an API with the scope api:read; its access
      // tokens are opaque, for the tests' resource servers to introspect.
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => ({
          scope: 'api:read',
          audience: resourceIndicator,
          accessTokenFormat: options.jwt_access_tokens ? 'jwt' : 'opaque',
        }),
      },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      // RFC 7591, open (no initial access token), only for the tests that ask for it.
      registration: { enabled: options.registration === true },
    },
    ...(options.interactions && {
      interactions: {
        url: (_ctx, interaction) => (options.hostile?.trick === 'redirect' && interaction.prompt.name === 'login'
          ? `${options.hostile.foreign}/login?return=${encodeURIComponent(`${issuer}/interaction/${interaction.uid}/sso`)}`
          : `/interaction/${interaction.uid}`),
      },
    }),
    // Clerk issues a refresh token with every code grant, offline_access or not.
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    ...(options.revoke_grant_with_access_token && { revokeGrantPolicy: () => true }),
    // Rotate on every use, so the tests see rotation and reuse rejection (RFC 9700 4.14.2).
    rotateRefreshToken: options.rotate_refresh_tokens !== false,
    pkce: {
      required: (_ctx, client) => ({
        all: true,
        public: client.clientAuthMethod === 'none',
        none: false,
      })[options.pkce_required || 'all'],
    },
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      userinfo: '/oauth/userinfo',
      introspection: '/oauth/token_info',
      revocation: '/oauth/revoke',
      jwks: '/.well-known/jwks.json',
      registration: '/oauth/register',
      device_authorization: '/oauth/device/auth',
      code_verification: '/oauth/device',
    },
    ...(options.device_code_ttl && { ttl: { DeviceCode: options.device_code_ttl } }),
  });
  // The tests use http://127.0.0.1 redirect URIs with any port (RFC 8252 section 7.3).
  provider.proxy = false;
  provider.on('server_error', (_ctx, err) => console.error('provider server_error', err));

  const mode = options.misbehave;
  if (mode) {
    provider.use(async (ctx, next) => {
      if (ctx.path === '/.well-known/jwks.json') {
        ctx.body = servedJwks(mode);
        return;
      }
      await next();
      if (ctx.path === '/oauth/token' && ctx.body?.id_token && MISBEHAVIOURS[mode]) {
        ctx.body = { ...ctx.body, id_token: await MISBEHAVIOURS[mode](jose.decodeJwt(ctx.body.id_token)) };
      }
      if (ctx.path === '/oauth/userinfo' && mode === 'userinfo_sub' && ctx.body?.sub) {
        ctx.body = { ...ctx.body, sub: 'someone-else' };
      }
    });
  }

  if (options.empty_401) {
    provider.use(async (ctx, next) => {
      const bare401 = () => {
        ctx.status = 401;
        ctx.body = '';
      };
      if (['/oauth/token_info', '/oauth/revoke'].includes(ctx.path) && !ctx.get('authorization')) {
        return bare401();
      }
      if (ctx.path === '/oauth/token' && ctx.method === 'POST') {
        // Read the form here; oidc-provider then takes ctx.request.body as parsed.
        const chunks = [];
        for await (const chunk of ctx.req) chunks.push(chunk);
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        if (form.grant_type === 'client_credentials' && !form.scope) return bare401();
        ctx.request.body = form;
      }
      await next();
    });
  }

  if (options.hang_later_codes) {
    let firstCode = null;
    provider.use(async (ctx, next) => {
      if (ctx.path === '/oauth/token' && ctx.method === 'POST') {
        const chunks = [];
        for await (const chunk of ctx.req) chunks.push(chunk);
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        ctx.request.body = form;
        if (form.grant_type === 'authorization_code') {
          firstCode ??= form.code;
          if (form.code !== firstCode) await new Promise(() => {});
        }
      }
      await next();
    });
  }

  if (options.refuse_public_at_token) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/oauth/token' && ctx.oidc?.client?.clientAuthMethod === 'none') {
        ctx.status = 400;
        ctx.body = { error: 'unauthorized_client', error_description: 'client authentication required' };
      }
    });
  }

  if (options.token_type) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/oauth/token' && ctx.body?.token_type) {
        ctx.body = { ...ctx.body, token_type: options.token_type };
      }
    });
  }

  if (options.device_verification_uri_complete) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/oauth/device/auth' && ctx.body?.device_code) {
        ctx.body = { ...ctx.body, verification_uri_complete: options.device_verification_uri_complete };
      }
    });
  }

  if (options.device_interval) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/oauth/device/auth' && ctx.body?.device_code) {
        ctx.body = { ...ctx.body, interval: options.device_interval };
      }
    });
  }

  const audit = new Set(options.audit_misbehave || []);
  if (audit.size) {
    const redeemed = new Map();
    provider.use(async (ctx, next) => {
      if (ctx.path === '/oauth/revoke' && audit.has('revocation_noop')) {
        ctx.status = 200;
        ctx.body = '';
        return;
      }
      if (ctx.path === '/oauth/authorize' && audit.has('scope_refused')) {
        const query = new URLSearchParams(ctx.querystring);
        const known = new Set(['openid', 'offline_access', 'profile', 'email', 'public_metadata', 'private_metadata']);
        const unknown = (query.get('scope') || '').split(' ').filter((v) => v && !known.has(v));
        if (unknown.length && query.get('redirect_uri')) {
          const back = new URL(query.get('redirect_uri'));
          back.searchParams.set('error', 'invalid_scope');
          back.searchParams.set('error_description', `unknown scope: ${unknown.join(' ')}`);
          if (query.get('state')) back.searchParams.set('state', query.get('state'));
          back.searchParams.set('iss', issuer);
          ctx.redirect(back.toString());
          return;
        }
      }
      if (ctx.path === '/oauth/authorize' && audit.has('loose_redirect_uri')) {
        const query = new URLSearchParams(ctx.querystring);
        const given = query.get('redirect_uri');
        if (given) {
          const u = new URL(given);
          if (u.pathname !== '/oauth_callback' || u.search || !['localhost', '127.0.0.1'].includes(u.hostname)) {
            query.set('redirect_uri', 'http://localhost:3000/oauth_callback');
            ctx.querystring = query.toString();
          }
        }
      }
      if (ctx.path === '/oauth/token' && ctx.method === 'POST' && audit.has('code_lax')) {
        // Read the form here; oidc-provider then takes ctx.request.body as parsed.
        const chunks = [];
        for await (const chunk of ctx.req) chunks.push(chunk);
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        if (form.grant_type === 'authorization_code' && form.code) {
          const code = await provider.AuthorizationCode.find(form.code);
          if (code) {
            delete form.code_verifier;
            form.redirect_uri = code.redirectUri;
            code.codeChallenge = undefined;
            code.codeChallengeMethod = undefined;
            await code.save();
          }
        }
        ctx.request.body = form;
      }
      await next();
      if (ctx.path !== '/oauth/token') return;
      if (audit.has('token_cacheable')) ctx.remove('cache-control');
      if (audit.has('scope_dropped') && ctx.body?.scope) {
        const { scope: _dropped, ...rest } = ctx.body;
        ctx.body = rest;
      }
      if (audit.has('secret_unchecked') && ctx.body?.error === 'invalid_client') {
        ctx.remove('www-authenticate');
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
      }
      const params = ctx.oidc?.params || {};
      const used = (params.grant_type === 'authorization_code' && audit.has('code_replay') && params.code)
        || (params.grant_type === 'refresh_token' && audit.has('refresh_replay') && params.refresh_token);
      if (used) {
        if (ctx.status === 200) redeemed.set(used, ctx.body);
        else if (redeemed.has(used)) {
          ctx.status = 200;
          ctx.body = redeemed.get(used);
        }
      }
    });
  }

  // The discovery documents, edited on the way out (split_metadata, listed_auth_methods,
  // cimd, audit_misbehave listed_plain).
  if (options.split_metadata || options.listed_auth_methods || cimd || audit.has('listed_plain')
    || options.empty_401) {
    provider.use(async (ctx, next) => {
      await next();
      if (!ctx.path.startsWith('/.well-known/') || !ctx.body?.issuer) return;
      const doc = { ...ctx.body };
      if (cimd) {
        doc.client_id_metadata_document_supported = true;
      }
      if (options.listed_auth_methods) {
        doc.token_endpoint_auth_methods_supported = options.listed_auth_methods;
      }
      if (audit.has('listed_plain')) doc.code_challenge_methods_supported = ['plain', 'S256'];
      if (options.empty_401) {
        doc.introspection_endpoint_auth_methods_supported = ['client_secret_basic'];
        doc.revocation_endpoint_auth_methods_supported = ['client_secret_basic'];
      }
      if (options.split_metadata && ctx.path === '/.well-known/openid-configuration') {
        delete doc.revocation_endpoint;
        delete doc.introspection_endpoint;
        delete doc.registration_endpoint;
      }
      if (options.split_metadata === 'other_issuer' && ctx.path === '/.well-known/oauth-authorization-server') {
        doc.issuer = 'https://other-issuer.example';
      }
      ctx.body = doc;
    });
  }

  const callback = provider.callback();
  let busy = 0n;
  let answered = 0;
  server.on('request', (req, res) => {
    if (options.timing) {
      if (req.url === '/__timing') {
        json(res, 200, { requests: answered, busy_ms: Number(busy) / 1e6 });
        busy = 0n;
        answered = 0;
        return;
      }
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        busy += process.hrtime.bigint() - started;
        answered += 1;
      });
    }
    if (cimd && req.url === '/client-metadata.json') {
      json(res, 200, cimd);
      return;
    }
    if (options.interactions === 'clerk_testing' && req.url.startsWith('/v1/')) {
      clerkStandIn(req, res);
      return;
    }
    if (options.interactions && req.url.startsWith('/interaction/')) {
      customInteraction(provider, options.interactions, req, res).catch((err) => {
        console.error('interaction error', err);
        if (!res.headersSent) page(res, 500, 'Error', `<p class="error">${esc(err.message)}</p>`);
      });
      return;
    }
    if (options.discovery === false && req.url.startsWith('/.well-known/o')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
