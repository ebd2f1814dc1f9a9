// A real MCP server for the integration tests, built the way the official TypeScript SDK's
// own example (examples/server/simpleStreamableHttp.js) builds one: Streamable HTTP with
// sessions, the SDK's bearer-auth middleware with a token verifier that introspects at the
// test provider (tests/provider/provider.mjs, RFC 7662 at /oauth/token_info, as the client
// test-confidential), and the SDK's protected-resource metadata router (RFC 9728) naming the
// provider as the authorization server.
//
// Usage: node server.mjs '<json options>'
//   options.issuer         the provider's issuer URL (required)
//   options.json_response  true: answer each POST with one JSON body instead of an SSE stream
//   options.admin_scope    the scope `admin_only` needs (default "mcp:admin")
// Tools: `echo` (any valid token), `whoami` (what the token says), `admin_only` (the admin
// scope, else HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope=...`,
// as MCP authorization 2025-11-25 "Runtime Insufficient Scope Errors" asks).
// Only tokens issued for this server's /mcp URL (RFC 8707 `resource`, introspected `aud`) are
// accepted. Prints one JSON line {"url", "port", "resource_metadata"} on stdout once it
// listens, and exits when its standard input closes.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthMetadataRouter,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError, InsufficientScopeError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const options = JSON.parse(process.argv[2] || '{}');
if (!options.issuer) throw new Error('options.issuer is required');
const issuer = options.issuer.replace(/\/$/, '');
const adminScope = options.admin_scope || 'mcp:admin';
const INTROSPECTION_CLIENT = { id: 'test-confidential', secret: 'test-confidential-secret' };

const oauthMetadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();

const app = createMcpExpressApp();
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const mcpUrl = new URL(`http://127.0.0.1:${port}/mcp`);
  const resourceMetadata = getOAuthProtectedResourceMetadataUrl(mcpUrl);
  routes(mcpUrl, resourceMetadata);
  process.stdout.write(`${JSON.stringify({ url: mcpUrl.href, port, resource_metadata: resourceMetadata })}\n`);
});

// RFC 7662 at the provider; `aud` is one value, a list, or absent.
const verifier = (mcpUrl) => ({
  async verifyAccessToken(token) {
    const response = await fetch(oauthMetadata.introspection_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token,
        client_id: INTROSPECTION_CLIENT.id,
        client_secret: INTROSPECTION_CLIENT.secret,
      }).toString(),
    });
    if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
    const info = await response.json();
    if (info.active !== true) throw new InvalidTokenError('Token is not active');
    const audience = [info.aud ?? []].flat().find((aud) => URL.canParse(aud) && new URL(aud).origin === mcpUrl.origin);
    return {
      token,
      clientId: info.client_id,
      scopes: info.scope ? info.scope.split(' ') : [],
      expiresAt: info.exp,
      resource: audience ? new URL(audience) : undefined,
      extra: { sub: info.sub, aud: info.aud },
    };
  },
});

const text = (value) => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] });

function mcpServer() {
  const mcp = new McpServer({ name: 'oauth-test-client-test-mcp', version: '1.2.3' }, { capabilities: { logging: {} } });
  mcp.registerTool('echo', {
    description: 'Says back what it is given',
    inputSchema: { text: z.string().describe('What to say back') },
  }, async ({ text: said }) => text(said));
  mcp.registerTool('whoami', {
    description: 'What the access token says: subject, client, scopes, audience',
  }, async (extra) => {
    const auth = extra.authInfo;
    return text({ sub: auth?.extra?.sub, client_id: auth?.clientId, scopes: auth?.scopes, aud: auth?.extra?.aud });
  });
  mcp.registerTool('admin_only', {
    description: `Needs the ${adminScope} scope`,
  }, async () => text('admin ok'));
  return mcp;
}

function routes(mcpUrl, resourceMetadata) {
  app.use(mcpAuthMetadataRouter({
    oauthMetadata,
    resourceServerUrl: mcpUrl,
    // What the test provider grants for a resource indicator (tests/provider/provider.mjs).
    scopesSupported: ['api:read'],
    resourceName: 'oauth-test-client test MCP server',
  }));
  const auth = requireBearerAuth({
    verifier: verifier(mcpUrl),
    resourceMetadataUrl: resourceMetadata,
    expectedResource: mcpUrl,
  });

  // A tools/call of admin_only without the admin scope: HTTP 403 before the MCP layer sees it
  // (the SDK's middleware checks scopes per endpoint only, not per tool).
  const adminGate = (req, res, next) => {
    const messages = [req.body].flat();
    const wantsAdmin = messages.some((m) => m?.method === 'tools/call' && m.params?.name === 'admin_only');
    if (wantsAdmin && !req.auth.scopes.includes(adminScope)) {
      const error = new InsufficientScopeError(`The admin_only tool needs the ${adminScope} scope`);
      res.set('WWW-Authenticate', `Bearer error="${error.errorCode}", scope="${adminScope}", `
        + `resource_metadata="${resourceMetadata}", error_description="${error.message}"`);
      res.status(403).json(error.toResponseObject());
      return;
    }
    next();
  };

  const sessions = new Map();
  app.post('/mcp', auth, adminGate, async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    try {
      let transport = sessionId ? sessions.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId) {
          res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
          return;
        }
        if (!isInitializeRequest(req.body)) {
          res.status(400).json({
            jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null,
          });
          return;
        }
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: options.json_response === true,
          onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => sessions.delete(transport.sessionId);
        await mcpServer().connect(transport);
      }
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      console.error('MCP request failed', err);
      if (!res.headersSent) {
        res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
      }
    }
  });
  const bySession = async (req, res) => {
    const transport = sessions.get(req.headers['mcp-session-id']);
    if (!transport) {
      res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      return;
    }
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', auth, bySession);
  app.delete('/mcp', auth, bySession);
}

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
