// The browser end-to-end test: a person at Debian's Chromium (driven by playwright-core) signs
// in through the app and the real local OpenID provider (tests/provider), looks at every page,
// copies tokens, refreshes, calls userinfo, and then declines a sign-in.
//
// Usage: node e2e.mjs APP_URL SCREENSHOT_DIR [LOGIN] [CLIENT_ID]
//   APP_URL         the app's index page, e.g. http://127.0.0.1:3000/
//   SCREENSHOT_DIR  where the PNGs go (created)
//   LOGIN           the login typed at the provider, which becomes the subject (default ada)
//   CLIENT_ID       the client the app is configured with, expected as the ID token's aud
// Started by tests/integration/browser.rs. Prints one JSON line per page it checked, and a
// last line {"done": true, ...}; exits 1 with {"error": ...} on the first failed check.
// Never downloads a browser: it runs /usr/bin/chromium (Debian's `chromium` package).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const [appUrl, shotDir, login = 'ada', clientId = ''] = process.argv.slice(2);
if (!appUrl || !shotDir) {
  console.error('usage: node e2e.mjs APP_URL SCREENSHOT_DIR [LOGIN] [CLIENT_ID]');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(JSON.stringify({ error: `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)` }));
  process.exit(1);
}
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// The whole run, browser start included, must end well within the Rust test's patience.
const HARD_LIMIT_MS = 150_000;
const hardLimit = setTimeout(() => {
  console.log(JSON.stringify({ error: `the browser test did not finish within ${HARD_LIMIT_MS / 1000} s` }));
  process.exit(1);
}, HARD_LIMIT_MS);

fs.mkdirSync(shotDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-test-client-chromium-'));
const appOrigin = new URL(appUrl).origin;
const shots = [];
const problems = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function report(step, details = {}) {
  console.log(JSON.stringify({ step, ok: true, ...details }));
}

async function shoot(page, name, options = {}) {
  const file = path.join(shotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...options });
  shots.push(`${name}.png`);
}

// WCAG 2.x A/AA rules and axe's best practices (heading order, landmarks, ...), and our own
// rule that every table header says what it heads.
async function accessible(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  check(violations.length === 0, `accessibility problems on the ${name} page:\n  ${violations.join('\n  ')}`);
  const lang = await page.getAttribute('html', 'lang');
  check(lang === 'en', `the ${name} page has no lang attribute`);
  const bare = await page.locator('th:not([scope])').count();
  check(bare === 0, `the ${name} page has ${bare} <th> without scope`);
  const levels = await page.$$eval('h1, h2, h3, h4, h5, h6', (hs) => hs.map((h) => Number(h.tagName[1])));
  check(levels[0] === 1 && levels.filter((l) => l === 1).length === 1, `the ${name} page needs exactly one h1, first: ${levels}`);
  levels.forEach((l, i) => check(i === 0 || l <= levels[i - 1] + 1, `the ${name} page skips a heading level: ${levels}`));
  return result.passes.length;
}

// Nothing wider than the window: no sideways scrolling, here and on a phone (375 px).
async function fitsWidth(page, name) {
  const measure = () => page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  let { scroll, width } = await measure();
  check(scroll <= width, `the ${name} page is ${scroll} px wide in a ${width} px window`);
  const before = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 812 });
  ({ scroll, width } = await measure());
  await page.setViewportSize(before);
  check(scroll <= width, `the ${name} page is ${scroll} px wide in a ${width} px window`);
}

async function rows(page, tableSelector) {
  return page.$$eval(`${tableSelector} tr`, (trs) => trs.map((tr) => ({
    th: tr.querySelector('th[scope="row"]')?.textContent.trim(),
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
  })));
}

async function appPage(page, name) {
  // The script ran (no CSP violation stopped it), and it is the only script.
  await page.waitForFunction(() => document.documentElement.classList.contains('js'), null, { timeout: 10_000 })
    .catch(() => { throw new Error(`/assets/app.js did not run on the ${name} page`); });
  const scripts = await page.$$eval('script', (s) => s.map((e) => ({ src: e.getAttribute('src'), inline: e.textContent.trim().length })));
  check(scripts.length === 1 && scripts[0].src.startsWith('/assets/app.js') && scripts[0].inline === 0,
    `the ${name} page should load exactly /assets/app.js: ${JSON.stringify(scripts)}`);
}

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1000, height: 800 },
  deviceScaleFactor: 1,
  locale: 'en-US',
  // Not UTC, so "local time" on the page is visibly the browser's own.
  timezoneId: 'America/New_York',
  permissions: ['clipboard-read', 'clipboard-write'],
});
context.setDefaultTimeout(15_000);
// Only loopback: the provider's dev pages @import a web font, which must not leave the machine.
await context.route('**/*', (route) => {
  const { hostname } = new URL(route.request().url());
  if (['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) return route.continue();
  return route.abort('blockedbyclient');
});

let exitCode = 0;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.push(`script error at ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    const fromApp = page.url().startsWith(appOrigin);
    if (fromApp && (m.type() === 'error' || /Content Security Policy/i.test(m.text()))) {
      problems.push(`console ${m.type()} at ${page.url()}: ${m.text()}`);
    }
  });

  // 1. The index.
  let response = await page.goto(appUrl);
  check(response.status() === 200, `the index answered ${response.status()}`);
  check(/script-src 'self'/.test(response.headers()['content-security-policy'] || ''), 'the CSP does not allow script-src \'self\'');
  check(!/script-src[^;]*unsafe-inline/.test(response.headers()['content-security-policy']), 'the CSP allows inline scripts');
  await appPage(page, 'index');
  check((await page.textContent('h1')).includes('OAuth test client'), 'the index has no title');
  const signIn = page.getByRole('link', { name: 'Sign in', exact: true });
  check(await signIn.isVisible(), 'no visible "Sign in" button on the index');
  // The Configuration table: the settings in use, in words; nothing that does not apply.
  const settings = await rows(page, 'table.settings');
  const settingNames = settings.map((r) => r.th);
  const plain = ['Client ID', 'Client authentication', 'Flow', 'Scopes', 'Listening on', 'HTTP timeout'];
  check(JSON.stringify(settingNames) === JSON.stringify(plain), `the Configuration table shows ${settingNames}`);
  for (const { th, cells } of settings) {
    check(!/^[{[]|^(true|false)$/.test(cells[0]), `the ${th} setting is not in words: ${cells[0]}`);
  }
  let passes = await accessible(page, 'index');
  await fitsWidth(page, 'index');
  await shoot(page, 'index');
  report('index', { axe_passes: passes });

  // The script itself: JavaScript's type, cached long, and nosniff.
  const js = await page.request.get(new URL('/assets/app.js', appUrl).href);
  check(js.status() === 200 && /^text\/javascript/.test(js.headers()['content-type']), `/assets/app.js answered ${js.status()} ${js.headers()['content-type']}`);
  check(/max-age=\d{6,}/.test(js.headers()['cache-control']), `/assets/app.js is not cached long: ${js.headers()['cache-control']}`);

  // 2. The provider's login form: any login and password.
  await signIn.click();
  await page.waitForSelector('input[name="login"]');
  check(!page.url().startsWith(appOrigin), `"Sign in" did not lead to the provider: ${page.url()}`);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await shoot(page, 'provider-login');
  report('provider-login');
  await page.getByRole('button', { name: 'Sign-in' }).click();

  // 3. The provider's consent form.
  const approve = page.getByRole('button', { name: 'Continue' });
  await approve.waitFor();
  await shoot(page, 'consent');
  report('consent');
  const [callback] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/oauth_callback')),
    approve.click(),
  ]);
  await page.waitForSelector('h1:text("Token response")');
  check(callback.status() === 200, `the callback answered ${callback.status()}`);

  // 4. The result page.
  await appPage(page, 'result');
  const banner = (await page.textContent('.banner')).trim();
  check(await page.locator('.banner.ok').count() === 1, `no success banner: ${banner}`);
  check(/every check passed/.test(banner), `the banner does not say every check passed: ${banner}`);
  check(!page.url().includes('code='), `the code is still in the address bar: ${page.url()}`);

  const tokenJson = JSON.parse(await page.textContent('#token-json'));
  for (const k of ['access_token', 'refresh_token', 'id_token', 'token_type', 'expires_in']) {
    check(k in tokenJson, `the token JSON has no ${k}`);
  }
  const fields = Object.fromEntries((await rows(page, 'table.fields')).map((r) => [r.th, r.cells[0]]));
  check(/^bearer/i.test(fields.token_type), `token_type: ${fields.token_type}`);
  check(fields.scope.includes('openid'), `scope: ${fields.scope}`);
  for (const k of ['access_token', 'refresh_token', 'id_token']) {
    check(fields[k] && tokenJson[k].startsWith(fields[k].slice(0, 12)), `the ${k} row does not show the token: ${fields[k]}`);
  }
  // The countdown: local time, ticking.
  const expiry = page.locator('[data-expires-at]');
  const expiresAt = Number(await expiry.getAttribute('data-expires-at'));
  const now = Math.floor(Date.now() / 1000);
  check(Math.abs(expiresAt - (now + Number(tokenJson.expires_in))) <= 30, `data-expires-at ${expiresAt} is not now + expires_in`);
  const first = await expiry.textContent();
  check(/^expires in (\d+ h )?(\d+ min )?\d+ s, at .+ \(local time\)$/.test(first), `the expiry is not a countdown: ${first}`);
  const localTime = await page.evaluate((at) => new Date(at * 1000).toLocaleString(), expiresAt);
  check(first.includes(localTime), `the expiry does not show local time ${localTime}: ${first}`);
  await page.waitForFunction((before) => document.querySelector('[data-expires-at]').textContent !== before, first, { timeout: 5000 })
    .catch(() => { throw new Error(`the countdown does not tick: ${first}`); });
  // As a person first sees it; result-top.png ends below the checks (for the README).
  await shoot(page, 'result');
  const checksBox = await page.locator('table.checks').boundingBox();
  await shoot(page, 'result-top', { clip: { x: 0, y: 0, width: 1000, height: Math.ceil(checksBox.y + checksBox.height + 24) } });

  // Copy buttons: one per token and one for the whole JSON, each putting the right text on
  // the clipboard.
  for (const k of ['access_token', 'refresh_token', 'id_token']) {
    check(await page.getByRole('button', { name: `Copy ${k}`, exact: true }).isVisible(), `no visible copy button for ${k}`);
    const button = page.getByRole('button', { name: new RegExp(`^Cop(y|ied) ${k}$`) });
    await button.click();
    await page.getByRole('button', { name: `Copied ${k}`, exact: true }).waitFor({ timeout: 5000 });
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    check(copied === tokenJson[k], `"Copy ${k}" copied something else (${copied.length} characters)`);
    check((await page.textContent('#copy-status')).includes(`The ${k} was copied`), 'the copy is not announced');
  }
  await page.getByRole('button', { name: 'Copy JSON', exact: true }).click();
  await page.getByRole('button', { name: 'Copied JSON', exact: true }).waitFor({ timeout: 5000 });
  const copiedJson = await page.evaluate(() => navigator.clipboard.readText());
  check(JSON.stringify(JSON.parse(copiedJson)) === JSON.stringify(tokenJson), '"Copy JSON" copied something else');

  // The ID token's claims and the checks.
  const claims = Object.fromEntries((await rows(page, 'table.claims')).map((r) => [r.th, r.cells[0]]));
  check(claims.sub === login, `the ID token's sub is ${claims.sub}, not ${login}`);
  check(claims.iss && claims.nonce && claims.exp, `claims missing: ${JSON.stringify(claims)}`);
  check(!clientId || claims.aud === clientId, `the ID token's aud is ${claims.aud}`);
  const checks = (await rows(page, 'table.checks tbody')).map((r) => ({ check: r.cells[0], result: r.cells[1] }));
  const passed = checks.filter((c) => c.result === 'pass');
  check(checks.length >= 10, `only ${checks.length} checks`);
  check(passed.length === checks.length, `not every check passed: ${JSON.stringify(checks.filter((c) => c.result !== 'pass'))}`);
  for (const name of ['id_token.signature', 'id_token.nonce', 'id_token.aud', 'token.token_type']) {
    check(passed.some((c) => c.check === name), `no passing ${name} row`);
  }
  const actionLabels = await page.$$eval('nav.actions a', (as) => as.map((a) => a.textContent.trim()));
  for (const label of ['Refresh', 'Userinfo', 'Token info (refresh token)', 'Revoke refresh token']) {
    check(actionLabels.includes(label), `no "${label}" button on the result page: ${actionLabels}`);
  }
  passes = await accessible(page, 'result');
  await fitsWidth(page, 'result');
  // The buttons say "Copy" again after a moment.
  await page.getByRole('button', { name: 'Copy JSON', exact: true }).waitFor({ timeout: 10_000 });
  // A phone-sized window.
  await page.setViewportSize({ width: 375, height: 812 });
  await accessible(page, 'result (375 px)');
  await shoot(page, 'result-375');
  await page.setViewportSize({ width: 1000, height: 800 });
  report('result', { checks: checks.length, passed: passed.length, sub: claims.sub, axe_passes: passes });

  // 5. Refresh.
  await page.getByRole('link', { name: 'Refresh', exact: true }).click();
  await page.waitForSelector('h1:text-is("refresh")');
  await appPage(page, 'refresh');
  const refreshBanner = (await page.textContent('.banner')).trim();
  check(await page.locator('.banner.ok').count() === 1, `the refresh failed: ${refreshBanner}`);
  const refreshed = JSON.parse(await page.locator('pre').last().textContent());
  check(refreshed.access_token && refreshed.access_token !== tokenJson.access_token, 'no new access token after the refresh');
  check(refreshed.refresh_token && refreshed.refresh_token !== tokenJson.refresh_token, 'the refresh token was not rotated');
  const requestShown = await page.locator('pre').first().textContent();
  check(/^POST /.test(requestShown) && requestShown.includes('grant_type=refresh_token'), `the refresh request is not shown: ${requestShown.slice(0, 80)}`);
  check(!requestShown.includes(tokenJson.refresh_token), 'the refresh token is not masked in the request shown');
  passes = await accessible(page, 'refresh');
  await fitsWidth(page, 'refresh');
  await shoot(page, 'refresh');
  report('refresh', { axe_passes: passes });

  // 6. Back (the result page's URL was replaced by the index: no replayed state), then Userinfo.
  await page.goBack();
  await page.waitForLoadState();
  const backTo = (await page.textContent('h1')).trim();
  check(['OAuth test client', 'Token response'].includes(backTo), `Back shows "${backTo}": ${await page.textContent('main')}`);
  await page.getByRole('link', { name: 'Userinfo', exact: true }).first().click();
  await page.waitForSelector('h1:text-is("userinfo")');
  await appPage(page, 'userinfo');
  check(await page.locator('.banner.ok').count() === 1, `userinfo failed: ${await page.textContent('.banner')}`);
  const userinfo = JSON.parse(await page.locator('pre').last().textContent());
  check(userinfo.sub === login, `userinfo's sub is ${userinfo.sub}, not ${login}`);
  check(userinfo.sub === claims.sub, 'userinfo and the ID token disagree on sub');
  passes = await accessible(page, 'userinfo');
  await fitsWidth(page, 'userinfo');
  await shoot(page, 'userinfo');
  report('userinfo', { sub: userinfo.sub, back_to: backTo, axe_passes: passes });

  // 7. Someone else declines: a fresh provider session, then the login page's Cancel link.
  await context.clearCookies();
  await page.goto(appUrl);
  check((await page.textContent('main')).includes('Last result'), 'the index does not show the last result');
  // Without the cookie of the browser that signed in: the configuration, no token, no action.
  check((await page.textContent('main')).includes('another browser'), 'the index does not say the sign-in was in another browser');
  check(await page.locator('main pre').count() === 0, 'the index shows a token to a browser without the session cookie');
  check(await page.locator('nav.actions a').count() === 0, 'the index offers actions to a browser without the session cookie');
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.waitForSelector('input[name="login"]');
  const [denied] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/oauth_callback')),
    page.getByRole('link', { name: '[ Cancel ]' }).click(),
  ]);
  await page.waitForSelector('h1:text("Sign-in failed")');
  check(denied.status() === 400, `the denied callback answered ${denied.status()}`);
  await appPage(page, 'error');
  const errorRows = Object.fromEntries((await rows(page, 'main table')).map((r) => [r.th, r.cells[0]]));
  check(errorRows.Step === 'authorization', `the failing step shown is ${errorRows.Step}`);
  check(errorRows.error === 'access_denied', `the error shown is ${errorRows.error}`);
  check(/aborted/i.test(errorRows.error_description || ''), `error_description: ${errorRows.error_description}`);
  const hint = await page.textContent('.hint');
  check(/declined/.test(hint) && /approve/.test(hint), `the hint does not explain a declined consent: ${hint}`);
  check(await page.getByRole('link', { name: 'Try again' }).isVisible(), 'no "Try again" button');
  passes = await accessible(page, 'error');
  await fitsWidth(page, 'error');
  await shoot(page, 'error');
  report('error', { error: errorRows.error, axe_passes: passes });

  check(problems.length === 0, `the browser reported problems:\n  ${problems.join('\n  ')}`);
  console.log(JSON.stringify({ done: true, sub: claims.sub, userinfo_sub: userinfo.sub, screenshots: shots, dir: shotDir }));
} catch (e) {
  exitCode = 1;
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: path.join(shotDir, 'failure.png'), fullPage: true });
  } catch { /* the failure matters more than its picture */ }
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e), url: context.pages()[0]?.url(), problems }));
} finally {
  await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(hardLimit);
}
process.exit(exitCode);
