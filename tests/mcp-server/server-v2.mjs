// A second real MCP server for the integration tests, on the official TypeScript SDK v2
// (`@modelcontextprotocol/server` 2.4.x, `createMcpHandler`): the stateless 2026-07-28
// revision (server/discover, `_meta` and the version header on every request, no session),
// the 2025-era `initialize` still answered statelessly by the same handler, as the SDK does by
// default. It sits behind the same authorization as server.mjs: a bearer token introspected at
// the test provider (RFC 7662, as the client test-confidential), accepted only when issued for
// this server's /mcp URL (RFC 8707), a 401 with `WWW-Authenticate: Bearer resource_metadata=`
// otherwise, and protected-resource metadata (RFC 9728) naming the provider. The SDK v2 does
// no token verification of its own (`authInfo` is passed through), so that part is here.
//
// Usage: node server-v2.mjs '<json options>'
//   options.issuer   the provider's issuer URL (required unless open)
//   options.open     true: no authorization at all (an MCP server that needs no token)
// Tool: `whoami` (what the token says).
// Prints one JSON line {"url", "port", "resource_metadata"} on stdout once it listens, and
// exits when its standard input closes.
import http from 'node:http';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';

const options = JSON.parse(process.argv[2] || '{}');
const open = options.open === true;
if (!open && !options.issuer) throw new Error('options.issuer is required');
const INTROSPECTION_CLIENT = { id: 'test-confidential', secret: 'test-confidential-secret' };
const oauthMetadata = open ? null
  : await (await fetch(`${options.issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`)).json();

const text = (value) => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] });

// One fresh server per request (the SDK v2 serving model); tools defined once.
const handler = createMcpHandler(({ authInfo }) => {
  const mcp = new McpServer({ name: 'oauth-test-client-test-mcp-v2', version: '2.4.0' });
  mcp.registerTool('whoami', {
    description: 'What the access token says: subject, client, scopes, audience',
  }, async () => text({
    sub: authInfo?.extra?.sub, client_id: authInfo?.clientId, scopes: authInfo?.scopes, aud: authInfo?.extra?.aud,
  }));
  return mcp;
});

// RFC 7662 at the provider: the token's facts, or null when it is not good for `mcpUrl`.
async function introspect(token, mcpUrl) {
  const response = await fetch(oauthMetadata.introspection_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token, client_id: INTROSPECTION_CLIENT.id, client_secret: INTROSPECTION_CLIENT.secret,
    }).toString(),
  });
  if (!response.ok) return null;
  const info = await response.json();
  if (info.active !== true) return null;
  const forUs = [info.aud ?? []].flat().some((aud) => aud === mcpUrl.href);
  if (!forUs) return null;
  return {
    token,
    clientId: info.client_id,
    scopes: info.scope ? info.scope.split(' ') : [],
    expiresAt: info.exp,
    resource: mcpUrl,
    extra: { sub: info.sub, aud: info.aud },
  };
}

const readBody = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 1_000_000) { reject(new Error('body too large')); req.destroy(); return; }
    chunks.push(c);
  });
  req.on('end', () => resolve(Buffer.concat(chunks)));
  req.on('error', reject);
});

let mcpUrl;
let resourceMetadata;
const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, mcpUrl).pathname;
    if (!open && req.method === 'GET' && path === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        resource: mcpUrl.href,
        authorization_servers: [oauthMetadata.issuer],
        scopes_supported: ['api:read'],
        resource_name: 'oauth-test-client test MCP server (SDK v2)',
      }));
      return;
    }
    if (path !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : null;
    const authInfo = token && !open ? await introspect(token, mcpUrl) : null;
    if (!open && !authInfo) {
      const error = token ? ', error="invalid_token"' : '';
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer resource_metadata="${resourceMetadata}"${error}`,
      });
      res.end(JSON.stringify({ error: 'invalid_token', error_description: token ? 'Token not accepted' : 'No token' }));
      return;
    }
    const body = ['GET', 'HEAD'].includes(req.method) ? undefined : await readBody(req);
    const request = new Request(new URL(req.url, mcpUrl), {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) => [v].flat().map((one) => [k, one])),
      body,
    });
    const response = await handler.fetch(request, authInfo ? { authInfo } : {});
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (err) {
    console.error('MCP request failed', err);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null }));
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  mcpUrl = new URL(`http://127.0.0.1:${port}/mcp`);
  resourceMetadata = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  process.stdout.write(`${JSON.stringify({ url: mcpUrl.href, port, resource_metadata: resourceMetadata })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
