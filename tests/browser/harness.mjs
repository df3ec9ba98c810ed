// Shared by the browser tests: the real hemma-server on a free loopback
// port with the demo world, headless Debian Chromium driven by
// playwright-core, API helpers for setting up data, and screenshots.
//
// Environment (set by tests/CMakeLists.txt):
//   HEMMA_SERVER_BINARY   path of hemma-server (required)
//   HEMMA_DEVICE_BINARY   path of hemma-device (for the end-to-end test)
//   HEMMA_BROWSER_ARTIFACTS  folder for screenshots (default build/test-artifacts/browser)
//   HEMMA_CHROMIUM        the browser (default /usr/bin/chromium)
import {spawn, execFile} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const kSetupHint = 'Run ci/setup (it installs Debian chromium and runs `npm ci` in tests/browser).';
export const kChromium = process.env.HEMMA_CHROMIUM || '/usr/bin/chromium';
// Waiting for the UI to show something; generous because the machine may be loaded.
export const kWaitMs = 15000;
// A whole test file; ctest's TIMEOUT (tests/CMakeLists.txt) is longer.
const kTestLimitMs = 150000;

function die(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

// The prerequisites are checked first: a missing browser or package is a
// failure with the fix named, never a skip.
async function loadPlaywright() {
  if (!existsSync(kChromium)) die(`no Chromium at ${kChromium}. ${kSetupHint}`);
  if (!existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
    die(`tests/browser/node_modules/playwright-core is missing. ${kSetupHint}`);
  }
  const require = createRequire(import.meta.url);
  return require('playwright-core');
}

export function startServer() {
  const binary = process.env.HEMMA_SERVER_BINARY;
  if (!binary || !existsSync(binary)) die(`HEMMA_SERVER_BINARY (${binary}) is not a hemma-server binary`);
  const dir = mkdtempSync(path.join(tmpdir(), 'hemma-browser-'));
  const child = spawn(binary, ['--port', '0', '--db', path.join(dir, 'server.db'), '--demo', '--kdf-iterations', '1000'],
    {stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        child.stdout.off('data', onData);
        // Keep draining the pipes so the server never blocks on logging.
        child.stdout.resume();
        child.stderr.resume();
        resolve({url: match[1], dir, stop: () => stopServer(child, dir)});
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => reject(new Error(`hemma-server exited (${code}) before listening:\n${output}`)));
  });
}

function stopServer(child, dir) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => {
      rmSync(dir, {recursive: true, force: true});
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const run = promisify(execFile);
// Runs hemma-device; returns its stdout. A non-zero exit throws with its output.
export async function device(server, dbFile, ...args) {
  const binary = process.env.HEMMA_DEVICE_BINARY;
  if (!binary || !existsSync(binary)) die(`HEMMA_DEVICE_BINARY (${binary}) is not a hemma-device binary`);
  try {
    const {stdout} = await run(binary, ['--db', dbFile, '--server', server.url, ...args]);
    return stdout;
  } catch (error) {
    throw new Error(`hemma-device ${args.join(' ')} failed (${error.code}):\n${error.stdout}${error.stderr}`);
  }
}

// The JSON API, for setting up what a test needs.
export async function api(server, method, route, {token, body} = {}) {
  const response = await fetch(server.url + route, {
    method,
    headers: Object.assign({'Content-Type': 'application/json'}, token ? {Authorization: `Bearer ${token}`} : {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${answer.error || ''}`);
  return answer;
}

export async function token(server, username) {
  return (await api(server, 'POST', '/api/v1/login', {body: {username, password: 'demo'}})).token;
}

let operationCounter = 0;
// A tablet's push, as hemma-device would send it, with a registered
// device's token. Each operation names patientId, entityType, entityId and
// one change (`append: {vitalSigns: ...}` or `write: {field, value, baseHlc}`).
export async function pushOperations(server, username, deviceId, operations) {
  const login = await token(server, username);
  const registered = await api(server, 'POST', '/api/v1/devices', {token: login, body: {deviceId}});
  const now = new Date();
  const body = {protocolVersion: 4, deviceId, operations: operations.map((op) => {
    operationCounter += 1;
    return Object.assign({id: `${deviceId}:${operationCounter}`, authorId: username, deviceId,
      hlc: String((BigInt(now.getTime()) << 16n) + BigInt(operationCounter)), recordedAt: now.toISOString()}, op);
  })};
  const answer = await api(server, 'POST', '/api/v1/sync/push', {token: registered.token, body});
  if ((answer.rejections || []).length) throw new Error(`push rejected: ${JSON.stringify(answer.rejections)}`);
  return answer;
}

// Vital signs scoring NEWS2 6 (medium): respiration 22 (2), SpO2 95 (1),
// systolic 105 (1), pulse 95 (1), temperature 38.5 (1), alert, room air.
export function mediumVitalSigns(id, patientId, authorId) {
  return {patientId, entityType: 'vital_signs', entityId: id, append: {vitalSigns: {
    id, patientId, authorId, observedAt: new Date().toISOString(), respiratoryRate: 22, spo2: 95, onOxygen: false,
    systolicBp: 105, pulse: 95, consciousness: 'ALERT', temperatureC: 38.5, news2Score: 6, news2Risk: 'NEWS2_MEDIUM',
  }}};
}

export function note(id, patientId, authorId, text) {
  return {patientId, entityType: 'visit_note', entityId: id,
    append: {note: {id, patientId, authorId, text, writtenAt: new Date().toISOString()}}};
}

export function message(id, patientId, authorId, text, {urgent = false, recipientId = ''} = {}) {
  return {patientId, entityType: 'message', entityId: id,
    append: {message: {id, patientId, authorId, text, urgent, recipientId, sentAt: new Date().toISOString()}}};
}

export const artifacts = process.env.HEMMA_BROWSER_ARTIFACTS || path.resolve(here, '../../build/test-artifacts/browser');

// One browser test: a server of its own, a browser, steps that say what
// they check, a screenshot on failure. Exits non-zero when a step fails.
export async function browserTest(name, body) {
  const {chromium} = await loadPlaywright();
  mkdirSync(artifacts, {recursive: true});
  for (const file of readdirSync(artifacts)) {
    if (file.startsWith(`${name}-failure-`)) rmSync(path.join(artifacts, file));
  }
  const started = Date.now();
  const server = await startServer();
  // Stop before ctest's own timeout would kill this process and leave the
  // server and the browser running.
  const watchdog = setTimeout(async () => {
    console.error(`FAIL ${name}: still running after ${kTestLimitMs / 1000} s; stopping`);
    await server.stop();
    process.exit(1);
  }, kTestLimitMs);
  watchdog.unref();
  const browser = await chromium.launch({
    executablePath: kChromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const pages = [];
  const consoleErrors = [];
  const newPage = async ({width = 1280, height = 900, locale = 'en-GB'} = {}) => {
    const context = await browser.newContext({viewport: {width, height}, locale, timezoneId: 'Europe/Stockholm'});
    context.setDefaultTimeout(kWaitMs);
    const page = await context.newPage();
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Failed API calls are logged by the browser as resource errors; the
      // tests check what the page says about them instead.
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
        consoleErrors.push(`console: ${message.text()}`);
      }
    });
    pages.push(page);
    return page;
  };
  let failed = false;
  let current = '';
  const step = async (what, fn) => {
    current = what;
    const t0 = Date.now();
    await fn();
    console.log(`ok   ${what} (${Date.now() - t0} ms)`);
  };
  const shot = (page, file) => page.screenshot({path: path.join(artifacts, `${file}.png`), fullPage: true});
  try {
    await body({server, newPage, step, shot});
    if (consoleErrors.length) throw new Error(`the page reported errors:\n${consoleErrors.join('\n')}`);
  } catch (error) {
    failed = true;
    console.error(`FAIL ${current}\n${error.stack || error}`);
    for (const [i, page] of pages.entries()) {
      await shot(page, `${name}-failure-${i}`).catch(() => {});
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  console.log(`${failed ? 'FAILED' : 'passed'}: ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `screenshots in ${artifacts}`);
  process.exit(failed ? 1 : 0);
}

// Logs in through the form, as a person would.
export async function login(page, server, username, password = 'demo') {
  await page.goto(server.url + '/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Log in'}).click();
}

// Fails unless `condition` holds; the message says what was expected.
export function check(condition, message) {
  if (!condition) throw new Error(`expected ${message}`);
}
