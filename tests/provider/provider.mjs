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
// Prints one JSON line {"issuer": "...", "port": N} on stdout once it listens, and exits
// when its standard input closes, so a test that dies never leaves it behind.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const scheme = options.https ? 'https' : 'http';
  const issuer = `${scheme}://${host}:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients || defaultClients,
    cookies: { keys: ['oauth-test-client-tests-only'] },
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
      introspection: { enabled: true },
      revocation: { enabled: true },
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
