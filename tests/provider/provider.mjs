// A real OpenID provider for the integration tests: panva's oidc-provider, configured to
// look like Clerk's OAuth server from a client's point of view (same paths, refresh tokens
// issued with the code grant, introspection at /oauth/token_info, JWKS at
// /.well-known/jwks.json). Its own login and consent forms (devInteractions) are used.
//
// Usage: node provider.mjs '<json options>'
//   options.https      {cert, key}: PEM file paths; serve HTTPS instead of HTTP
//   options.host       issuer host name (default 127.0.0.1; "localhost" for Clerk mode)
//   options.clients    array of oidc-provider client metadata (defaults below)
//   options.discovery  false: answer 404 on both discovery documents
//   options.registration  true: offer dynamic client registration (RFC 7591)
//   options.jwt_access_tokens  true: access tokens for a resource indicator are JWTs (RFC 9068)
//   options.misbehave  one way to break the ID token (or userinfo), for the verification
//                      tests: the real provider runs the flow, then its token response is
//                      altered on the way out (see MISBEHAVIOURS below)
//   options.split_metadata  true: the OpenID discovery document lacks revocation_endpoint,
//                      introspection_endpoint and registration_endpoint, which only the RFC 8414
//                      document (/.well-known/oauth-authorization-server) lists, as
//                      django-oauth-toolkit serves them; "other_issuer": the RFC 8414 document
//                      also names another issuer
//   options.listed_auth_methods  array: the token_endpoint_auth_methods_supported both
//                      discovery documents advertise (what the provider accepts is unchanged)
//   options.introspect_access_tokens_only  true: introspecting a refresh token answers
//                      {"active": false}, as django-oauth-toolkit does
// Prints one JSON line {"issuer": "...", "port": N} on stdout once it listens, and exits
// when its standard input closes, so a test that dies never leaves it behind.
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

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const scheme = options.https ? 'https' : 'http';
  const issuer = `${scheme}://${host}:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients || defaultClients,
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
    scopes: ['openid', 'offline_access', 'profile', 'email', 'public_metadata', 'private_metadata'],
    features: {
      devInteractions: { enabled: true },
      introspection: {
        enabled: true,
        ...(options.introspect_access_tokens_only
          ? { allowedPolicy: async (_ctx, _client, token) => token.kind !== 'RefreshToken' }
          : {}),
      },
      revocation: { enabled: true },
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
      // RFC 7591, open (no initial access token), only for the tests that ask for it.
      registration: { enabled: options.registration === true },
    },
    // Clerk issues a refresh token with every code grant, offline_access or not.
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Rotate on every use, so the tests see rotation and reuse rejection (RFC 9700 4.14.2).
    rotateRefreshToken: true,
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      userinfo: '/oauth/userinfo',
      introspection: '/oauth/token_info',
      revocation: '/oauth/revoke',
      jwks: '/.well-known/jwks.json',
      registration: '/oauth/register',
    },
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

  // The discovery documents, edited on the way out (split_metadata, listed_auth_methods).
  if (options.split_metadata || options.listed_auth_methods) {
    provider.use(async (ctx, next) => {
      await next();
      if (!ctx.path.startsWith('/.well-known/') || !ctx.body?.issuer) return;
      const doc = { ...ctx.body };
      if (options.listed_auth_methods) {
        doc.token_endpoint_auth_methods_supported = options.listed_auth_methods;
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
  server.on('request', (req, res) => {
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
