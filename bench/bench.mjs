// The measurements behind bench/run.sh (run that, not this: it builds and installs first).
// Measures the Rust app (target/release/oauth-test-client) and the Express equivalent of
// Clerk's test client (bench/express/server.mjs) in the same run, alternating them, against
// the local OpenID provider (tests/provider/provider.mjs), and prints a Markdown report;
// with --write-doc it also replaces the results section of docs/benchmarks.md.
//
// Everything goes to loopback only; every loop is bounded in count and in time; every
// process started here is stopped on exit (the provider also exits when our stdin pipe to
// it closes, so it never outlives this script).
//
// Knobs (environment): BENCH_ROUNDS (3), BENCH_STARTS (7), BENCH_FLOWS (10000),
// BENCH_FLOOD (100000), BENCH_WRK_SECONDS (10), BENCH_SIGNINS (50).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = (name, dflt) => Number(process.env[name] || dflt);
const ROUNDS = env('BENCH_ROUNDS', 3);
const STARTS = env('BENCH_STARTS', 7);
const FLOWS = env('BENCH_FLOWS', 10000);
const FLOOD = env('BENCH_FLOOD', 100000);
const WRK_SECONDS = env('BENCH_WRK_SECONDS', 10);
const SIGNINS = env('BENCH_SIGNINS', 50);
const WRITE_DOC = process.argv.includes('--write-doc');
// Core pinning (BENCH_PIN=0 to turn off): each server gets CPU 0 to itself and wrk CPU 1,
// so neither server shares its core with the load generator and both get the same CPU.
const PIN = process.env.BENCH_PIN !== '0' && os.cpus().length >= 2
  && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const CLIENT_ID = 'test-confidential';
const CLIENT_SECRET = 'test-confidential-secret';
const SCOPE = 'openid profile email';
const DEADLINE = Date.now() + 15 * 60_000; // a hard stop for the whole run

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-bench-'));
const children = new Set();
const wrkNotes = []; // anything wrk saw besides clean answers, for the report

function cleanup() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  children.clear();
  fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => { cleanup(); process.exit(130); });
}

const log = (...args) => process.stderr.write(`${args.join(' ')}\n`);

function checkDeadline() {
  if (Date.now() > DEADLINE) throw new Error('the benchmark ran past its 15-minute bound');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------
// Processes

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startProvider() {
  const child = spawn('node', [path.join(ROOT, 'tests/provider/provider.mjs'), '{}'], {
    stdio: ['pipe', 'pipe', fs.openSync(path.join(work, 'provider.stderr'), 'w')],
  });
  children.add(child);
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the provider did not start in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(buf.slice(0, nl)); }
    });
    child.once('exit', (code) => reject(new Error(`the provider exited (${code})`)));
  });
  child.stdout.resume(); // keep draining
  const { issuer, port } = JSON.parse(line);
  return { child, issuer, port };
}

const KINDS = {
  rust: {
    label: 'Rust (this app)',
    command: (port, issuer) => [path.join(ROOT, 'target/release/oauth-test-client'), [
      '--no-browser', '--port', String(port), '--issuer', issuer,
      '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET,
      // On 127.0.0.1 like the Express server: /login answers there, without first sending
      // the browser to the redirect URI's host (where the flow's cookie must be set).
      '--redirect-uri', `http://127.0.0.1:${port}/oauth_callback`,
    ], { RUST_LOG: 'error' }],
  },
  express: {
    label: 'Express (Clerk-style)',
    command: (port, issuer) => ['node', [path.join(ROOT, 'bench/express/server.mjs')], {
      ISSUER: issuer, CLIENT_ID, CLIENT_SECRET, PORT: String(port),
    }],
  },
};

// One HTTP GET on a new connection; resolves with the status, or rejects (refused, ...).
function probe(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

// Spawns a server and polls /healthz every 2 ms until it answers 200; the time from just
// before spawn() to that answer is start-to-ready.
async function startServer(kind, issuer) {
  const port = await freePort();
  const [cmd, args, extraEnv] = KINDS[kind].command(port, issuer);
  const cwd = fs.mkdtempSync(path.join(work, `${kind}-`)); // no .env here
  const stderrPath = path.join(cwd, 'stderr');
  const t0 = performance.now();
  const [exe, argv] = PIN ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
  const child = spawn(exe, argv, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME || '/root', ...extraEnv },
    stdio: ['ignore', 'ignore', fs.openSync(stderrPath, 'w')],
  });
  children.add(child);
  let exited = null;
  child.once('exit', (code, signal) => { exited = `${code ?? signal}`; });
  const limit = t0 + 30_000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`${kind} exited (${exited}) before ready:\n${fs.readFileSync(stderrPath, 'utf8')}`);
    }
    try {
      // eslint-disable-next-line no-await-in-loop
      if (await probe(port, '/healthz') === 200) break;
    } catch { /* not listening yet */ }
    if (performance.now() > limit) throw new Error(`${kind} not ready in 30 s`);
    // eslint-disable-next-line no-await-in-loop
    await sleep(2);
  }
  const readyMs = performance.now() - t0;
  return { kind, child, port, pid: child.pid, readyMs, stderrPath };
}

async function stopServer(server) {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  children.delete(child);
}

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
}

// ---------------------------------------------------------------------------------------
// Load

// `count` GET /login over `concurrency` keep-alive connections; every answer must be a 302.
async function loginFlows(port, count, concurrency = 8) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  let bad = 0;
  const one = () => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/login', agent }, (res) => {
      if (res.statusCode !== 302) bad += 1;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      checkDeadline();
      // eslint-disable-next-line no-await-in-loop
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  if (bad) throw new Error(`${bad} of ${count} /login answers were not 302`);
}

function wrk(args) {
  if (PIN) {
    const rest = args.map((a) => (a === '-t2' ? '-t1' : a));
    return execFileSync('taskset', ['-c', '1', 'wrk', ...rest], { encoding: 'utf8', timeout: 120_000 });
  }
  return execFileSync('wrk', args, { encoding: 'utf8', timeout: 120_000 });
}

// wrk for a fixed time: requests per second, and a check that every answer was a 302.
function wrkRate(kind, port, urlPath = '/login', seconds = WRK_SECONDS) {
  const out = wrk(['-t2', '-c50', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${urlPath}`]);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const non3xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const errors = /Socket errors:.*/.exec(out);
  if (non3xx || errors) {
    const note = `wrk on ${KINDS[kind].label} ${urlPath} noted: ${[non3xx?.[0], errors?.[0]].filter(Boolean).join('; ')}`;
    wrkNotes.push(note);
    log(`  ${note}`);
  }
  const p99 = /99%\s+([\d.]+\w+)/.exec(out);
  return { rate, p99: p99 ? p99[1] : '?' };
}

// wrk until `count` answers (split over its 2 threads; a few in flight may add to it):
// each thread stops itself at its share and says so; then wrk gets SIGINT, which ends its
// run early and still prints the summary. Bounded at 120 s. Returns the requests answered.
async function wrkCount(port, count) {
  const script = path.join(work, 'stop-after.lua');
  fs.writeFileSync(script, [
    'local limit, n = 0, 0',
    'function init(args) limit = tonumber(args[1]) end',
    'function response(status, headers, body)',
    '  n = n + 1',
    '  if n == limit then io.write("THREAD-DONE\\n"); io.flush(); wrk.thread:stop() end',
    'end',
    'function done(summary) io.write(string.format("TOTAL %d STATUS %d\\n", summary.requests, summary.errors.status)) end',
    '',
  ].join('\n'));
  const child = spawn('wrk', ['-t2', '-c50', '-d120s', '-s', script, `http://127.0.0.1:${port}/login`, '--', String(Math.ceil(count / 2))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  let interrupted = false;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (!interrupted && (out.match(/THREAD-DONE/g) || []).length === 2) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 130_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
  const m = /TOTAL (\d+) STATUS (\d+)/.exec(out);
  if (!m) throw new Error(`wrk gave no summary:\n${out}`);
  if (Number(m[2])) throw new Error(`${m[2]} error statuses in the flood`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------
// A person at a browser: manual redirects, a cookie jar, the provider's own forms.

class Browser {
  constructor() { this.jar = new Map(); }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keep(response) {
    for (const c of response.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      if (!value || expired) this.jar.delete(name); else this.jar.set(name, value);
    }
  }

  async request(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.jar.size) headers.cookie = this.cookieHeader();
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.keep(response);
    return response;
  }

  // From `start` (the app's /login, or the provider's authorize URL) through the login and
  // consent forms, until a redirect to `callbackPrefix`; returns that URL, unfetched.
  async authorize(start, callbackPrefix) {
    const prefixes = [callbackPrefix].flat();
    const isCallback = (u) => prefixes.some((p) => u.href.startsWith(p));
    let url = new URL(start);
    for (let i = 0; i < 20; i += 1) {
      // eslint-disable-next-line no-await-in-loop
      let response = await this.request(url);
      if (response.status >= 300 && response.status < 400) {
        await response.arrayBuffer();
        url = new URL(response.headers.get('location'), url);
        if (isCallback(url)) return url;
        continue;
      }
      // eslint-disable-next-line no-await-in-loop
      const html = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status} at ${url}: ${html.slice(0, 300)}`);
      const action = /<form[^>]*action="([^"]+)"/.exec(html);
      if (!action) throw new Error(`no form at ${url}`);
      const form = html.includes('name="login"')
        ? { prompt: 'login', login: 'bench-user', password: 'any-password' }
        : { prompt: 'consent' };
      const target = new URL(action[1].replace(/&amp;/g, '&').replace(/&#x2F;/g, '/'), url);
      // eslint-disable-next-line no-await-in-loop
      response = await this.request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      });
      await response.arrayBuffer();
      if (response.status < 300 || response.status >= 400) throw new Error(`form at ${target} answered ${response.status}`);
      url = new URL(response.headers.get('location'), target);
      if (isCallback(url)) return url;
    }
    throw new Error(`no redirect to ${callbackPrefix} in 20 steps`);
  }
}

const b64 = (bytes) => crypto.randomBytes(bytes).toString('base64url');

// One complete sign-in through an app: /login, the provider's forms, the app's callback
// (which redeems the code and, for the Rust app, verifies the ID token).
async function signInThroughApp(port) {
  const browser = new Browser();
  const callback = await browser.authorize(
    `http://127.0.0.1:${port}/login`,
    [`http://localhost:${port}/oauth_callback`, `http://127.0.0.1:${port}/oauth_callback`],
  );
  // The Express client's redirect URI says localhost, and it listens on 127.0.0.1 only.
  callback.hostname = '127.0.0.1';
  const response = await browser.request(callback, { headers: { accept: 'application/json' } });
  const body = await response.json();
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`callback answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
}

// The provider's share of the same sign-in, with no app: the same authorization request
// (same parameters), the same forms, and the same token request the app makes.
async function signInProviderOnly(issuer, port) {
  const redirectUri = `http://localhost:${port}/oauth_callback`;
  const verifier = b64(32);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    state: b64(16),
    code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    redirect_uri: redirectUri,
    scope: SCOPE,
    nonce: b64(32),
  });
  const browser = new Browser();
  const callback = await browser.authorize(`${issuer}/oauth/authorize?${params}`, redirectUri);
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code'),
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    }),
  });
  const body = await response.json();
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
}

// Milliseconds one sign-in takes.
async function timed(one) {
  checkDeadline();
  const t0 = performance.now();
  await one();
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------
// The run

function sh(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; }
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo);
  return {
    nproc: sh('nproc', []),
    cpu: model ? model[1].trim() : os.cpus()[0]?.model || '?',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: os.release(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    rustc: sh('rustc', ['--version']),
    node: process.version,
    wrk: sh('dpkg-query', ['-W', '-f=${Version}', 'wrk']),
    express: JSON.parse(fs.readFileSync(path.join(ROOT, 'bench/express/node_modules/express/package.json'))).version,
    load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

async function main() {
  const started = performance.now();
  for (const f of ['target/release/oauth-test-client', 'bench/express/node_modules/express', 'tests/provider/node_modules/oidc-provider']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run bash bench/run.sh`);
  }
  const info = machine();
  const provider = await startProvider();
  log(`provider at ${provider.issuer}`);
  const r = {};
  for (const kind of Object.keys(KINDS)) {
    r[kind] = { ready: [], idle: [], afterFlows: [], afterFlood: [], floodCount: [], rate: [], p99: [], health: [], signIn: [], share: [] };
  }
  const providerOnly = [];

  // 1. Start-to-ready, alternating; the process is stopped right after.
  log(`start-to-ready: ${STARTS} starts each, alternating`);
  for (let i = 0; i < STARTS; i += 1) {
    for (const kind of (i % 2 ? ['express', 'rust'] : ['rust', 'express'])) {
      checkDeadline();
      // eslint-disable-next-line no-await-in-loop
      const server = await startServer(kind, provider.issuer);
      r[kind].ready.push(server.readyMs);
      // eslint-disable-next-line no-await-in-loop
      await stopServer(server);
    }
  }

  // 2. Memory and /login throughput: per round and per server, one process: idle RSS,
  //    RSS after FLOWS /login flows, RSS after a FLOOD-request flood, then wrk's rate.
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const kind of (round % 2 ? ['express', 'rust'] : ['rust', 'express'])) {
      checkDeadline();
      log(`round ${round + 1}/${ROUNDS}: ${kind}`);
      // eslint-disable-next-line no-await-in-loop
      const server = await startServer(kind, provider.issuer);
      r[kind].ready.push(server.readyMs);
      // eslint-disable-next-line no-await-in-loop
      await sleep(1000);
      r[kind].idle.push(rssKiB(server.pid));
      // eslint-disable-next-line no-await-in-loop
      await loginFlows(server.port, FLOWS);
      // eslint-disable-next-line no-await-in-loop
      await sleep(200);
      r[kind].afterFlows.push(rssKiB(server.pid));
      // eslint-disable-next-line no-await-in-loop
      r[kind].floodCount.push(await wrkCount(server.port, FLOOD));
      // eslint-disable-next-line no-await-in-loop
      await sleep(200);
      r[kind].afterFlood.push(rssKiB(server.pid));
      const { rate, p99 } = wrkRate(kind, server.port);
      r[kind].rate.push(rate);
      r[kind].p99.push(p99);
      // The same for /healthz, which does nothing: the HTTP stack's own ceiling here.
      r[kind].health.push(wrkRate(kind, server.port, '/healthz', Math.max(1, Math.round(WRK_SECONDS / 2))).rate);
      log(`  ready ${server.readyMs.toFixed(1)} ms, RSS ${r[kind].idle.at(-1)} -> ${r[kind].afterFlows.at(-1)} -> ${r[kind].afterFlood.at(-1)} KiB, ${rate.toFixed(0)} /login per s`);
      // eslint-disable-next-line no-await-in-loop
      await stopServer(server);
    }
  }

  // 3. Full sign-ins, sequential: provider alone, then through each app, alternating.
  const servers = {};
  for (const kind of Object.keys(KINDS)) {
    // eslint-disable-next-line no-await-in-loop
    servers[kind] = await startServer(kind, provider.issuer);
    // Warm up: the first sign-in fetches the JWKS (Rust) and warms the JITs.
    for (let i = 0; i < 3; i += 1) {
      // eslint-disable-next-line no-await-in-loop
      await signInThroughApp(servers[kind].port);
    }
  }
  for (let i = 0; i < 3; i += 1) {
    // eslint-disable-next-line no-await-in-loop
    await signInProviderOnly(provider.issuer, servers.rust.port);
  }
  // Interleaved one by one (provider alone, Rust, Express, in a rotating order), so that
  // drift on a shared machine (and the provider's own warm-up) falls on all three alike.
  // Per round: mean milliseconds per sign-in, and the mean of the paired differences
  // (through the app minus the provider alone, same iteration) as the client's share.
  const steps = {
    provider: () => signInProviderOnly(provider.issuer, servers.rust.port),
    rust: () => signInThroughApp(servers.rust.port),
    express: () => signInThroughApp(servers.express.port),
  };
  const rotations = [['provider', 'rust', 'express'], ['rust', 'express', 'provider'], ['express', 'provider', 'rust']];
  for (let round = 0; round < ROUNDS; round += 1) {
    const sums = { provider: 0, rust: 0, express: 0 };
    const share = { rust: 0, express: 0 };
    for (let i = 0; i < SIGNINS; i += 1) {
      const ms = {};
      for (const kind of rotations[(round * SIGNINS + i) % 3]) {
        // eslint-disable-next-line no-await-in-loop
        ms[kind] = await timed(steps[kind]);
        sums[kind] += ms[kind];
      }
      share.rust += ms.rust - ms.provider;
      share.express += ms.express - ms.provider;
    }
    providerOnly.push(sums.provider / SIGNINS);
    for (const kind of Object.keys(KINDS)) {
      r[kind].signIn.push(sums[kind] / SIGNINS);
      r[kind].share.push(share[kind] / SIGNINS);
    }
    log(`sign-ins round ${round + 1}/${ROUNDS} (${SIGNINS} of each, interleaved): provider alone ${providerOnly.at(-1).toFixed(1)} ms, ` +
      `Rust ${r.rust.signIn.at(-1).toFixed(1)} ms (share ${r.rust.share.at(-1).toFixed(1)}), Express ${r.express.signIn.at(-1).toFixed(1)} ms (share ${r.express.share.at(-1).toFixed(1)})`);
  }
  for (const server of Object.values(servers)) {
    // eslint-disable-next-line no-await-in-loop
    await stopServer(server);
  }
  provider.child.stdin.end();

  const m = {};
  for (const kind of Object.keys(KINDS)) {
    const x = r[kind];
    m[kind] = {
      ready: median(x.ready),
      idle: median(x.idle),
      afterFlows: median(x.afterFlows),
      afterFlood: median(x.afterFlood),
      floodCount: median(x.floodCount),
      rate: median(x.rate),
      health: median(x.health),
      signIn: median(x.signIn),
      share: median(x.share),
    };
  }
  const prov = median(providerOnly);
  const seconds = (performance.now() - started) / 1000;
  const report = render(info, m, prov, r, providerOnly, seconds);
  process.stdout.write(report);
  if (WRITE_DOC) writeDoc(report);
}

// ---------------------------------------------------------------------------------------
// The report

const fmt = (x, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (kib) => `${fmt(kib / 1024)} MiB`;
const ratio = (x) => `${fmt(x, x >= 10 ? 0 : 1)}x`;
const met = (ok) => (ok ? '**met**' : '**not met**');

function render(info, m, prov, r, providerOnly, seconds) {
  const R = m.rust;
  const E = m.express;
  const shareR = R.share;
  const shareE = E.share;
  const readyRatio = E.ready / R.ready;
  const idleRatio = E.idle / R.idle;
  const rateRatio = R.rate / E.rate;
  const floodRatioR = R.afterFlood / R.idle;
  const floodRatioE = E.afterFlood / E.idle;
  const list = (xs, f) => xs.map(f).join(', ');
  const lines = [
    `Run of ${info.date}: ${info.nproc} cores (${info.cpu}), ${info.memory}, Linux ${info.kernel}; ` +
      `${info.rustc}; Node.js ${info.node}, Express ${info.express}; wrk ${info.wrk}. ` +
      `Load average at the start: ${info.load}. The whole measurement took ${fmt(seconds, 0)} s.`,
    '',
    `Medians of ${STARTS + ROUNDS} starts and ${ROUNDS} rounds per server (alternating); sign-ins: ${ROUNDS} rounds of ${SIGNINS} sequential ones through each app and ${SIGNINS} against the provider alone, interleaved.`,
    '',
    '| Measure | Rust (this app) | Express (Clerk-style) | Ratio | Target | Result |',
    '|---|---:|---:|---:|---|---|',
    `| Start to first 200 on \`/healthz\` | ${fmt(R.ready)} ms | ${fmt(E.ready)} ms | ${ratio(readyRatio)} faster | ≥ 10x faster | ${met(readyRatio >= 10)} |`,
    `| Resident memory, idle after ready | ${mib(R.idle)} | ${mib(E.idle)} | ${ratio(idleRatio)} smaller | ≥ 5x smaller | ${met(idleRatio >= 5)} |`,
    `| Resident memory after ${FLOWS.toLocaleString('en-US')} \`/login\` flows | ${mib(R.afterFlows)} | ${mib(E.afterFlows)} | ${ratio(E.afterFlows / R.afterFlows)} smaller | | |`,
    `| Resident memory after a further ~${FLOOD.toLocaleString('en-US')}-request flood | ${mib(R.afterFlood)} (${fmt(floodRatioR, 2)}x idle) | ${mib(E.afterFlood)} (${fmt(floodRatioE, 2)}x idle) | ${ratio(E.afterFlood / R.afterFlood)} smaller | Rust ≤ 2x its idle | ${met(floodRatioR <= 2)} |`,
    `| \`/login\` requests per second (${PIN ? 'server on CPU 0, taskset -c 1 wrk -t1' : 'wrk -t2'} -c50 -d${WRK_SECONDS}s) | ${fmt(R.rate, 0)} | ${fmt(E.rate, 0)} | ${ratio(rateRatio)} more | ≥ 10x | ${met(rateRatio >= 10)} |`,
    `| For scale: \`/healthz\` (does nothing) per second, -d${Math.max(1, Math.round(WRK_SECONDS / 2))}s | ${fmt(R.health, 0)} | ${fmt(E.health, 0)} | ${ratio(R.health / E.health)} more | | |`,
    `| Full sign-in round trip (sequential) | ${fmt(R.signIn)} ms (${fmt(1000 / R.signIn)}/s) | ${fmt(E.signIn)} ms (${fmt(1000 / E.signIn)}/s) | ${ratio(E.signIn / R.signIn)} faster | | |`,
    `| … of which the provider alone (same steps, no app) | ${fmt(prov)} ms | ${fmt(prov)} ms | | | |`,
    `| … of which the client's share (paired: round trip − provider alone) | ${fmt(shareR)} ms | ${fmt(shareE)} ms | ${shareR > 0 && shareE > 0 ? `${ratio(shareE / shareR)} less` : 'n/a'} | | |`,
    '',
    'Targets:',
    '',
    `- Start to ready at least 10x faster than Express: ${met(readyRatio >= 10)} (${ratio(readyRatio)}; the Rust figure includes reading the provider's discovery document over loopback, Express reads nothing).`,
    `- Idle memory at least 5x smaller: ${met(idleRatio >= 5)} (${ratio(idleRatio)}).`,
    `- \`/login\` at least 10x the requests per second: ${met(rateRatio >= 10)} (${ratio(rateRatio)}).` +
      (rateRatio >= 10 ? '' : ` For scale, \`/healthz\`, which does no work at all, came out at ${ratio(R.health / E.health)} in the same rounds: wrk shares the same ${info.nproc} cores with the server it measures, so Express (one thread) keeps a core to itself while the Rust app's ${info.nproc} workers share theirs with wrk.`),
    `- Memory after the flood within 2x of idle: ${met(floodRatioR <= 2)} (Rust ${fmt(floodRatioR, 2)}x its idle RSS after ${fmt((FLOWS + R.floodCount), 0)} \`/login\` requests; Express ${fmt(floodRatioE, 2)}x).`,
    '',
    ...(wrkNotes.length ? ['wrk reported errors in this run (the rates above count only completed requests):', '', ...wrkNotes.map((n) => `- ${n}`), ''] : []),
    'Every repetition (for the medians above):',
    '',
    '| Measure | Rust (this app) | Express (Clerk-style) |',
    '|---|---|---|',
    `| Start to ready, ms | ${list(r.rust.ready, (x) => fmt(x))} | ${list(r.express.ready, (x) => fmt(x))} |`,
    `| RSS idle / after flows / after flood, MiB | ${list(r.rust.idle.map((x, i) => [x, r.rust.afterFlows[i], r.rust.afterFlood[i]]), (t) => t.map((k) => fmt(k / 1024)).join(' / '))} | ${list(r.express.idle.map((x, i) => [x, r.express.afterFlows[i], r.express.afterFlood[i]]), (t) => t.map((k) => fmt(k / 1024)).join(' / '))} |`,
    `| Flood size (requests wrk completed) | ${list(r.rust.floodCount, (x) => x.toLocaleString('en-US'))} | ${list(r.express.floodCount, (x) => x.toLocaleString('en-US'))} |`,
    `| \`/login\` per second (p99 latency) | ${list(r.rust.rate.map((x, i) => [x, r.rust.p99[i]]), ([x, p]) => `${fmt(x, 0)} (${p})`)} | ${list(r.express.rate.map((x, i) => [x, r.express.p99[i]]), ([x, p]) => `${fmt(x, 0)} (${p})`)} |`,
    `| \`/healthz\` per second | ${list(r.rust.health, (x) => fmt(x, 0))} | ${list(r.express.health, (x) => fmt(x, 0))} |`,
    `| Sign-in, ms (provider alone: ${list(providerOnly, (x) => fmt(x))}) | ${list(r.rust.signIn, (x) => fmt(x))} | ${list(r.express.signIn, (x) => fmt(x))} |`,
    `| Client's share of a sign-in, ms | ${list(r.rust.share, (x) => fmt(x))} | ${list(r.express.share, (x) => fmt(x))} |`,
    '',
  ];
  return `${lines.join('\n')}`;
}

function writeDoc(report) {
  const doc = path.join(ROOT, 'docs/benchmarks.md');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const text = fs.readFileSync(doc, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${doc} has no ${start} ... ${end} section`);
  fs.writeFileSync(doc, `${text.slice(0, a + start.length)}\n${report}${text.slice(b)}`);
  log(`results written to ${path.relative(process.cwd(), doc) || doc}`);
}

// Exit explicitly: cleanup() then stops whatever is still running (the provider on failure).
main().then(() => process.exit(0), (e) => {
  log(`benchmark failed: ${e.stack || e}`);
  process.exit(1);
});
