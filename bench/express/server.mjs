// For bench/run.sh only: an Express equivalent of Clerk's ~100-line "minimal OAuth test
// client", written for the benchmark so that the Rust app can be measured side by side with
// it. Same routes and, on the measured paths, the same behaviour as the Rust app:
//   GET /healthz         200 (added: Clerk's client has no health route)
//   GET /login           new state (16 random bytes), PKCE S256 pair (32-byte verifier) and
//                        nonce (32 bytes), remembered in a Map capped at 1000 flows (the
//                        oldest is evicted, like the Rust app's store); 302 to
//                        <ISSUER>/oauth/authorize with the parameters the Rust app sends
//   GET /oauth_callback  takes the state (once), POSTs code + verifier + client credentials
//                        (client_secret_post) to <ISSUER>/oauth/token with fetch, answers
//                        with the token JSON and prints it on stdout
//   GET /refresh, /userinfo, /tokeninfo  as in Clerk's client (not measured)
// Like Clerk's client it discovers nothing (fixed Clerk paths) and verifies nothing (no ID
// token signature, nonce or iss checks). Settings: ISSUER, CLIENT_ID, CLIENT_SECRET, PORT,
// SCOPES (default "openid profile email"), from the environment or .env.
import crypto from 'node:crypto';
import dotenv from 'dotenv';
import express from 'express';

dotenv.config({ quiet: true });

const issuer = process.env.ISSUER.replace(/\/$/, '');
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
const port = Number(process.env.PORT || 3000);
const scope = process.env.SCOPES || 'openid profile email';
const redirectUri = `http://localhost:${port}/oauth_callback`;
const CAPACITY = 1000;
const TTL_MS = 600_000;

const flows = new Map(); // state -> { verifier, nonce, created }
let tokens = null; // the last sign-in's tokens, for /refresh, /userinfo, /tokeninfo

const random = (bytes) => crypto.randomBytes(bytes).toString('base64url');

const app = express();

app.get('/healthz', (_req, res) => res.type('text/plain').send('ok\n'));

app.get('/', (_req, res) => res.send(`<a href="/login">Sign in</a><pre>${tokens ? 'signed in' : ''}</pre>`));

app.get('/login', (_req, res) => {
  const verifier = random(32);
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = random(16);
  const nonce = scope.split(' ').includes('openid') ? random(32) : undefined;
  while (flows.size >= CAPACITY) flows.delete(flows.keys().next().value);
  flows.set(state, { verifier, nonce, created: Date.now() });
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    redirect_uri: redirectUri,
    scope,
  });
  if (nonce) params.set('nonce', nonce);
  res.redirect(`${issuer}/oauth/authorize?${params}`);
});

async function tokenRequest(form) {
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ ...form, client_id: clientId, client_secret: clientSecret }),
    redirect: 'manual',
  });
  return { status: response.status, body: await response.json() };
}

app.get('/oauth_callback', async (req, res) => {
  const { state, code, error } = req.query;
  const flow = typeof state === 'string' ? flows.get(state) : undefined;
  if (!flow) return res.status(400).json({ error: 'invalid_state' });
  flows.delete(state);
  if (Date.now() - flow.created > TTL_MS) return res.status(400).json({ error: 'expired_state' });
  if (error) return res.status(400).json(req.query);
  try {
    const result = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: flow.verifier,
    });
    if (result.status === 200) {
      tokens = result.body;
      process.stdout.write(`${JSON.stringify(result.body)}\n`);
    }
    return res.status(result.status).json(result.body);
  } catch (e) {
    return res.status(502).json({ error: 'token_request_failed', message: String(e) });
  }
});

app.get('/refresh', async (_req, res) => {
  if (!tokens?.refresh_token) return res.status(409).send('sign in first');
  const result = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  if (result.status === 200) tokens = { ...tokens, ...result.body };
  return res.status(result.status).json(result.body);
});

app.get('/userinfo', async (_req, res) => {
  if (!tokens) return res.status(409).send('sign in first');
  const response = await fetch(`${issuer}/oauth/userinfo`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  return res.status(response.status).json(await response.json());
});

app.get('/tokeninfo', async (_req, res) => {
  if (!tokens?.refresh_token) return res.status(409).send('sign in first');
  const response = await fetch(`${issuer}/oauth/token_info`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.refresh_token, client_id: clientId, client_secret: clientSecret }),
  });
  return res.status(response.status).json(await response.json());
});

app.listen(port, '127.0.0.1', () => process.stderr.write(`Sign in at http://127.0.0.1:${port}/login\n`));
