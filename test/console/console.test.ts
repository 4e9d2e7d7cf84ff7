// The console in a real browser (Debian's Chromium driven by playwright-core, nothing downloaded):
// the built server runs as a child process, an agent simulator uses the public API only.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, call, login, statelessBatch } from '../support/client.js';
import { AGENT_KEY, ROOT, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { openSse, type SseStream } from '../support/sse.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';

// Browser globals used inside page.evaluate callbacks (the project compiles without the DOM lib).
declare const document: any;
declare const window: any;
declare const location: any;

/** Screenshots of every page, for review (gitignored). `CONSOLE_DOCS=1` also refreshes the README's two. */
export const SHOTS = join(ROOT, 'test-output/console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAIT = 60_000; // a loaded 2-core machine
const PASSWORD = 'correct horse battery';

interface Ctx {
  dataDir: string;
  server: ServerProcess;
  engine: EngineHandle;
  browser: Browser;
  page: Page;
  agentToken: string;
  stream: SseStream;
  commandId: string;
}

const ui = suite<Ctx>('the console in a real browser');

ui.before(async (ctx) => {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  ctx.dataDir = tempDir('comms-api-console-');
  for (const [name, role] of [['olga', 'operator'], ['audrey', 'auditor']] as const) {
    const r = await runCli(['users', 'add', name, '--role', role], { COMMS_API_DATA_DIR: ctx.dataDir }, PASSWORD);
    assert.is(r.code, 0, r.stderr);
  }
  ctx.engine = await startEngine();
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_ENGINE_SOCKET: ctx.engine.socket });
  const socket = join(ctx.dataDir, 'admin.sock');
  for (const uuid of ['sim-1', 'sim-2']) {
    const r = await adminCall(socket, 'POST', '/agents', { uuid, key: AGENT_KEY, name: `simulated ${uuid}`, groups: ['linux'] });
    assert.is(r.status, 201, JSON.stringify(r.body));
  }
  ctx.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  ctx.page = await newPage(ctx.browser);
});

ui.after(async (ctx) => {
  ctx.stream?.close();
  await ctx.browser?.close();
  await ctx.server?.kill('SIGTERM');
  await ctx.engine?.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
  console.log(`screenshots of every page: ${SHOTS}`);
});

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // a CSP violation or a script error shows up here (an HTTP error answer is logged too: the UI handles those)
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}
const errorsOf = (page: Page) => (page as Page & { errors: string[] }).errors;

async function shot(page: Page, name: string, docs?: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (docs && process.env.CONSOLE_DOCS === '1') copyFileSync(join(SHOTS, `${name}.png`), join(ROOT, 'docs', docs));
}

async function logIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.fill('#login-user', user);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#pipelines table');
}

const go = (page: Page, hash: string) => page.evaluate((h) => (location.hash = h), hash);

ui('an operator logs in and the overview shows pipelines, journal, agents and commands', async (ctx) => {
  const r = await call('GET', `${ctx.server.url}/console/`);
  assert.is(r.status, 200);
  const csp = r.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.not.match(csp, /unsafe-inline/);
  await logIn(ctx.page, ctx.server.url, 'olga');
  await ctx.page.waitForSelector('#agents-box [data-count="never_connected"]');
  assert.match(await ctx.page.textContent('.who') ?? '', /olga \(operator\)/);
  assert.match(await ctx.page.textContent('#journal-box') ?? '', /Head seq/);
  assert.match(await ctx.page.textContent('#journal-box') ?? '', /of 20\.0 GiB \(\d+\.\d %\)/); // the default quota
  await shot(ctx.page, 'overview-first');
});

ui('an agent that connects appears as connected without reloading the page', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/agents');
  await page.waitForSelector('[data-agent="sim-1"][data-status="never_connected"]');
  await page.evaluate(() => (window.sameDocument = true));
  ctx.agentToken = await login(ctx.server.api, { uuid: 'sim-1', key: AGENT_KEY });
  ctx.stream = await openSse(`${ctx.server.api}/commands`, { token: ctx.agentToken });
  assert.is(ctx.stream.status, 200);
  await page.waitForSelector('[data-agent="sim-1"][data-connected="true"][data-status="active"]');
  assert.ok(await page.evaluate(() => window.sameDocument), 'the page was not reloaded');
  await shot(page, 'agents');

  await page.click('a[href="#/agents/sim-1"]');
  await page.waitForFunction(() => /stream is open/.test(document.querySelector('#diagnosis')?.textContent ?? ''));
  await page.waitForSelector('#agent-config code');
  assert.match(await page.textContent('#agent-facts') ?? '', /this node/);
});

// (before the command: a server may refuse an upgrade naming a package it does not hold)
ui('a package upload shows its progress and the package is listed with size and sha256', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/packages');
  await page.waitForSelector('#package-form');
  const content = randomBytes(3 * 1024 * 1024 + 17);
  const sha = createHash('sha256').update(content).digest('hex');
  await page.setInputFiles('#package-file', { name: 'agent-5.0.deb', mimeType: 'application/octet-stream', buffer: content });
  assert.is(await page.inputValue('#package-name'), 'agent-5.0.deb');
  await page.click('#package-upload');
  await page.waitForSelector('[data-package="agent-5.0.deb"]');
  assert.match(await page.textContent('[data-package="agent-5.0.deb"]') ?? '', new RegExp(sha));
  assert.is(await page.getAttribute('[data-package="agent-5.0.deb"] span[title]', 'title'), `${content.length} bytes`);
  assert.is(await page.$eval('#package-progress', (p) => (p as any).value), 100);
  await shot(page, 'packages');
});

ui('a command issued from the form reaches the agent and its page shows success', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/commands/new');
  await page.waitForSelector('#cmd-action option[value="upgrade"]', { state: 'attached' });
  await page.selectOption('#cmd-action', 'upgrade');
  await page.waitForSelector('#arg-package');
  // the form comes from the args schema: `package` (required) and `version`
  assert.ok(await page.$('#arg-version'));
  await page.click('#cmd-review-button');
  await page.waitForFunction(() => /required/.test(document.querySelector('#command-form')?.textContent ?? ''));
  await page.fill('#arg-package', 'agent-5.0.deb');
  await page.selectOption('#cmd-target-type', 'group');
  await page.fill('#cmd-target-id', 'linux');
  await page.click('#cmd-review-button');
  await page.waitForSelector('#cmd-target-count[data-count="2"]');
  await page.selectOption('#cmd-target-type', 'agent');
  await page.fill('#cmd-target-id', 'sim-1');
  await page.click('#cmd-review-button');
  await page.waitForSelector('#cmd-target-count[data-count="1"]');
  await shot(page, 'command-review');
  await page.click('#cmd-confirm');
  await page.waitForFunction(() => /^#\/commands\/[^/]+$/.test(location.hash) && location.hash !== '#/commands/new');
  const id = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/commands/'.length));
  ctx.commandId = id;

  const frame = await ctx.stream.next((e) => e.event === 'command', WAIT);
  const sent = JSON.parse(frame.data);
  assert.is(sent.id, id);
  assert.equal(sent.action.args, { package: 'agent-5.0.deb' });
  await page.waitForSelector('[data-target="sim-1"][data-state="delivered"]');
  const result = await call('POST', `${ctx.server.api}/commands/${id}/result`, { token: ctx.agentToken, json: { status: 'success', message: 'upgraded' } });
  assert.is(result.status, 204);
  await page.waitForSelector('[data-target="sim-1"][data-state="success"]');
  assert.match(await page.textContent('[data-target="sim-1"]') ?? '', /upgraded/);
  await shot(page, 'command');
  await go(page, '#/commands');
  await page.waitForSelector(`#commands-list a[href="#/commands/${id}"]`);
  await shot(page, 'commands');
});

/** Whether the server documents `method path` (the console hides what is not there). */
async function documented(api: string, method: string, path: string): Promise<boolean> {
  const doc = await call('GET', `${api}/openapi.json`);
  return Boolean(doc.body.paths?.[`/api/v1${path}`]?.[method]);
}

ui('cancel is offered and works where the server has it, and is absent where it does not', async (ctx) => {
  const page = ctx.page;
  const issued = await adminCall(join(ctx.dataDir, 'admin.sock'), 'POST', '/commands', { action: { name: 'refresh' }, target: { type: 'agent', id: 'sim-2' } });
  assert.is(issued.status, 201);
  await go(page, `#/commands/${issued.body.id}`);
  await page.waitForSelector('[data-target="sim-2"][data-state="pending"]');
  if (await documented(ctx.server.api, 'post', '/commands/{id}/cancel')) {
    await page.click('#cancel-command');
    await page.waitForSelector('[data-target="sim-2"][data-state="cancelled"]');
    await shot(page, 'command-cancelled');
  } else {
    await page.waitForTimeout(2500); // a refresh later, still nothing to click
    assert.is(await page.$('#cancel-command'), null);
  }
});

ui('users and API keys are managed where the server has them, and absent where it does not', async (ctx) => {
  const page = ctx.page;
  if (!(await documented(ctx.server.api, 'get', '/users'))) {
    assert.is(await page.$('nav a[href="#/users"]'), null);
    return;
  }
  await page.waitForSelector('nav a[href="#/users"]');
  await go(page, '#/users');
  await page.waitForFunction(() => /audrey/.test(document.querySelector('#users')?.textContent ?? ''));
  await page.waitForSelector('#key-name');
  await page.fill('#key-name', 'prometheus');
  await page.selectOption('#key-role', 'metrics');
  await page.click('#key-create');
  await page.waitForSelector('#key-secret');
  const key = (await page.textContent('#key-secret')) ?? '';
  assert.ok(key.length >= 32, 'the key is shown once');
  await page.waitForFunction(() => /prometheus/.test(document.querySelector('#api-keys table')?.textContent ?? ''));
  // the key works as a bearer credential: a metrics key is refused elsewhere
  const elsewhere = await call('GET', `${ctx.server.api}/agents`, { token: key });
  assert.is(elsewhere.status, 403);
  await shot(page, 'users');
});

ui('a group edit that conflicts with another session shows the current version and the diff', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/groups');
  await page.waitForSelector('#groups-list a[href="#/groups/linux"]');
  await shot(page, 'groups');
  await page.click('#groups-list a[href="#/groups/linux"]');
  await page.waitForSelector('#config-editor');
  const initialTag = await page.textContent('#config-etag');

  // another operator session changes the group meanwhile
  const other = await login(ctx.server.api, { username: 'olga', password: PASSWORD });
  const cur = await call('GET', `${ctx.server.api}/groups/linux/configuration`, { token: other });
  assert.is(cur.headers.get('etag'), initialTag);
  const put = await call('PUT', `${ctx.server.api}/groups/linux/configuration`, { token: other, json: { log_level: 'debug' }, headers: { 'if-match': cur.headers.get('etag')! } });
  assert.is(put.status, 200, put.text);

  await page.fill('#config-editor', '{"interval": ');
  await page.waitForFunction(() => document.querySelector('#config-editor')?.getAttribute('aria-invalid') === 'true');
  assert.ok(await page.isDisabled('#config-save'), 'invalid JSON cannot be saved');
  await page.fill('#config-editor', '{"interval": 60}');
  await page.waitForFunction(() => !document.querySelector('#config-save').disabled);
  await page.click('#config-save');
  await page.waitForSelector('#conflict-current');
  assert.match(await page.textContent('#conflict-current') ?? '', /"log_level": "debug"/);
  const diff = await page.textContent('.diff');
  assert.match(diff ?? '', /- {3}"log_level": "debug"/);
  assert.match(diff ?? '', /\+ {3}"interval": 60/);
  const still = await call('GET', `${ctx.server.api}/groups/linux/configuration`, { token: other });
  assert.equal(still.body, { log_level: 'debug' }, 'nothing was overwritten');
  await shot(page, 'group-conflict');

  await page.click('#conflict-overwrite');
  await page.waitForFunction(() => /Saved/.test(document.querySelector('#config-status')?.textContent ?? ''));
  const after = await call('GET', `${ctx.server.api}/groups/linux/configuration`, { token: other });
  assert.equal(after.body, { interval: 60 });
});

ui('the history filters, pages and exports NDJSON and CSV', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/history');
  await page.waitForSelector('#history-list table');
  await page.fill('#h-command', ctx.commandId);
  await page.selectOption('#h-status', 'success');
  await page.click('#history-apply');
  await page.waitForFunction(() => document.querySelectorAll('#history-list tbody tr').length === 1);
  await shot(page, 'history');
  for (const [button, check] of [
    ['#export-ndjson', (text: string) => assert.equal(text.trim().split('\n').map((l) => JSON.parse(l).state), ['success'])],
    ['#export-csv', (text: string) => assert.match(text, /^seq,time,command,agent,action,type,state,actor\r\n\d+,[^,]+,[^,]+,sim-1,upgrade,/)],
  ] as const) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    check(readFileSync((await download.path())!, 'utf8'));
  }
});

ui('a batch the engine refused is listed on the journal page and retried from there', async (ctx) => {
  const page = ctx.page;
  await ctx.engine.setMode('reject400');
  const sent = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agentToken, body: statelessBatch(3, { poison: true }), type: 'application/x-ndjson' });
  assert.is(sent.status, 202, sent.text);
  const operator = await login(ctx.server.api, { username: 'olga', password: PASSWORD });
  for (let i = 0; ; i++) {
    const r = await call('GET', `${ctx.server.api}/dead-letters`, { token: operator });
    if (r.body.dead_letters.length > 0) break;
    if (i > 600) assert.unreachable('the engine pipeline never dead-lettered the batch');
    await new Promise((r) => setTimeout(r, 100));
  }
  await go(page, '#/journal');
  await page.waitForSelector('#journal-stats table');
  await page.waitForSelector('#dead-letters button[data-key]');
  assert.match(await page.textContent('#dead-letters') ?? '', /engine answered 400/);
  await shot(page, 'journal-operator');
  await ctx.engine.setMode('ok');
  await page.click('#dead-letters button[data-key]');
  await page.waitForFunction(() => /delivered/.test(document.querySelector('#dl-status')?.textContent ?? ''));
  assert.is(await page.$('#dead-letters button[data-key]'), null, 'nothing left to retry');
});

ui('the overview and the agent page follow the activity (README screenshots)', async (ctx) => {
  const page = ctx.page;
  await go(page, '#/overview');
  await page.waitForSelector('#agents-box [data-count="active"]');
  // a command still open for the agent that never connected, and a steady flow of events
  const issued = await adminCall(join(ctx.dataDir, 'admin.sock'), 'POST', '/commands', { action: { name: 'restart' }, target: { type: 'group', id: 'linux' } });
  assert.is(issued.status, 201);
  for (let i = 0; i < 8; i++) {
    const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agentToken, body: statelessBatch(200 * (1 + (i % 4))), type: 'application/x-ndjson' });
    assert.is(r.status, 202, r.text);
    await page.waitForTimeout(1200);
  }
  await page.waitForSelector(`#commands-box a[href="#/commands/${issued.body.id}"]`);
  await page.waitForFunction(() => /engine throughput: [1-9]/.test(document.querySelector('#pipelines')?.textContent ?? '') || /peak [1-9]\d* ev\/s/.test(document.querySelector('#pipelines')?.textContent ?? ''));
  await shot(page, 'overview', 'console-overview.png');
  await go(page, '#/agents/sim-1');
  await page.waitForSelector('#agent-commands a');
  await page.waitForSelector('#agent-config code');
  await page.waitForFunction(() => /engine answered 400/.test(document.querySelector('#agent-dead-letters')?.textContent ?? ''));
  await shot(page, 'agent', 'console-agent.png');
});

/** Every control a keyboard user can reach, by a key that survives live re-rendering. */
const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// Plain JavaScript strings: the test runner (tsx) would wrap named functions with a helper the page lacks.
const KEY = `(el) => el.id || el.getAttribute('href') || el.dataset.key || (el.tagName + ':' + (el.textContent || '').trim())`;
const LIST_TABBABLE = `[...document.querySelectorAll(${JSON.stringify(TABBABLE)})].filter((el) => el.getClientRects().length > 0).map(${KEY})`;
const FOCUSED = `(() => { const el = document.activeElement; return el && el !== document.body ? (${KEY})(el) : null; })()`;

async function tabStops(page: Page): Promise<{ expected: string[]; reached: string[] }> {
  const expected = (await page.evaluate(LIST_TABBABLE)) as string[];
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  const reached = new Set<string>();
  for (let i = 0; i < expected.length * 4 + 20; i++) {
    await page.keyboard.press('Tab');
    const k = (await page.evaluate(FOCUSED)) as string | null;
    if (k) reached.add(k);
    if (expected.every((e) => reached.has(e))) break;
  }
  return { expected, reached: [...reached] };
}

ui('keyboard navigation reaches every control of every page', async (ctx) => {
  const page = ctx.page;
  const pages: Array<[string, string]> = [
    ['#/overview', '#commands-box h2'],
    ['#/agents', '[data-agent="sim-1"]'],
    [`#/agents/sim-1`, '#agent-commands a'],
    ['#/commands', '#commands-list table'],
    ['#/commands/new', '#arg-package, #cmd-target-id'],
    [`#/commands/${ctx.commandId}`, '[data-target="sim-1"]'],
    ['#/history', '#history-list table'],
    ['#/groups', '#groups-list table'],
    ['#/groups/linux', '#config-editor'],
    ['#/packages', '[data-package]'],
    ['#/journal', '#journal-stats table'],
    ['#/users', 'main h1'],
  ];
  for (const [hash, ready] of pages) {
    await go(page, hash);
    await page.waitForSelector(ready);
    const { expected, reached } = await tabStops(page);
    assert.ok(expected.length > 3, `${hash}: controls found`);
    const missed = expected.filter((e) => !reached.includes(e));
    assert.equal(missed, [], `${hash}: Tab reaches every control`);
  }
  assert.equal(errorsOf(page), [], 'no script error or CSP violation');
});

ui('an auditor finds no write controls, and runs verify with a receipt', async (ctx) => {
  const page = await newPage(ctx.browser);
  await logIn(page, ctx.server.url, 'audrey');
  assert.match(await page.textContent('.who') ?? '', /audrey \(auditor\)/);
  assert.is(await page.$('nav a[href="#/groups"]'), null);
  const pages: Array<[string, string]> = [
    ['#/overview', '#commands-box h2'],
    ['#/agents', '[data-agent="sim-1"]'],
    ['#/agents/sim-1', '#agent-commands a'],
    ['#/commands', '#commands-list table'],
    ['#/commands/new', '.notice-error'],
    [`#/commands/${ctx.commandId}`, '[data-target="sim-1"]'],
    ['#/history', '#history-list table'],
    ['#/groups/linux', '.notice-error'],
    ['#/packages', '[data-package]'],
    ['#/journal', '#journal-stats table'],
    ['#/users', '.notice-error'],
  ];
  for (const [hash, ready] of pages) {
    await go(page, hash);
    await page.waitForSelector(ready);
    const writes = await page.evaluate(() => {
      const found = [...document.querySelectorAll('[data-write], input[type=file], textarea, #cmd-confirm, #new-command, #cancel-command')].map((e) => e.outerHTML.slice(0, 80));
      for (const b of document.querySelectorAll('button, a.button, input[type=submit]')) {
        if (/issue|save|upload|retry|cancel|delete|send|overwrite|disable|enable/i.test(b.textContent ?? '')) found.push(b.outerHTML.slice(0, 80));
      }
      return found;
    });
    assert.equal(writes, [], `${hash}: no write control`);
    await shot(page, `auditor-${hash.slice(2).replace(/\//g, '-') || 'overview'}`);
  }
  await go(page, '#/journal');
  await page.click('#verify-run');
  await page.waitForSelector('#receipt[data-ok="true"]');
  assert.match(await page.textContent('#receipt') ?? '', /Entries checked/);
  await shot(page, 'journal-verify');
  assert.equal(errorsOf(page), []);
});

ui.run();
