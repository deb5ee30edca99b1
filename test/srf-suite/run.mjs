#!/usr/bin/env node
/* global process, console, setTimeout, clearTimeout */
/**
 * Runs drachtio-srf's own integration tests (node_modules/drachtio-srf/test) against `outdial
 * edge`, on the loopback testbed of testbed.json instead of the docker network of
 * docker-compose-testbed.yaml: a check beside the project's suite, not part of `npm test`
 * (it takes minutes: uas.js alone waits 32 s for an ACK timeout).
 *
 *   node test/srf-suite/run.mjs [file.js ...]      # default: the files in testbed.json
 *
 * It copies srf's test folder to a temporary directory, points its container names and
 * 172.29.0.N addresses at 127.0.0.N, swaps test/sipp.js for ./sipp.cjs, starts one `outdial
 * edge` per drachtio-server container and one sipp per sipp UAS container, runs each test file
 * with tape, and prints the ok / not ok count per file. Everything it starts is stopped at the
 * end; the logs stay in the printed directory.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const srfDir = path.join(repo, 'node_modules/drachtio-srf');
const testbed = JSON.parse(readFileSync(path.join(here, 'testbed.json'), 'utf8'));
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : testbed.files;
const FILE_TIMEOUT_MS = 240_000;

const work = mkdtempSync(path.join(tmpdir(), 'outdial-srf-suite-'));
const pkg = path.join(work, 'drachtio-srf');
const testDir = path.join(pkg, 'test');
mkdirSync(pkg, { recursive: true });
cpSync(path.join(srfDir, 'test'), testDir, { recursive: true });
writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'drachtio-srf', main: 'index.js' }));
writeFileSync(path.join(pkg, 'index.js'), `module.exports = require(${JSON.stringify(srfDir)});\n`);
cpSync(path.join(here, 'sipp.cjs'), path.join(testDir, 'sipp.js'));
cpSync(path.join(here, 'testbed.json'), path.join(testDir, 'testbed.json'));

// container names (longest first, so sipp-uas-404 is not read as sipp-uas) and addresses
const names = [...Object.entries(testbed.uas).map(([n, u]) => [n, u.address]), ...Object.entries(testbed.onDemandUas)];
names.sort((a, b) => b[0].length - a[0].length);
for (const dir of [testDir, path.join(testDir, 'scripts')]) {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
    const p = path.join(dir, f);
    let text = readFileSync(p, 'utf8');
    text = text.replace(/172\.29\.0\.(\d+)/g, '127.0.0.$1');
    for (const [name, address] of names) text = text.replace(new RegExp(`(['":])${name}(?=['";:])`, 'g'), `$1${address}`);
    writeFileSync(p, text);
  }
}
// The docker image's older sipp reads `regexp="<sip:(.*)>"`; sipp 3.6 wants well-formed XML,
// so `<` and `>` inside attribute values are escaped; testbed addresses (a 302's Contact) move
// to loopback like everything else. The scenarios are otherwise unchanged.
const scenarioDir = path.join(testDir, 'scenarios');
for (const f of readdirSync(scenarioDir).filter((x) => x.endsWith('.xml'))) {
  const p = path.join(scenarioDir, f);
  const text = readFileSync(p, 'latin1');
  const fixed = text
    .replace(/(\s[a-z_]+=")([^"]*)"/g, (_m, start, value) => `${start}${value.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`)
    .replace(/172\.29\.0\.(\d+)/g, '127.0.0.$1');
  if (fixed !== text) writeFileSync(p, fixed, 'latin1');
}
const configDir = path.join(work, 'config');
mkdirSync(configDir);
const sutConf = (e) => ({ host: e.address, port: e.wirePort, secret: testbed.secret });
writeFileSync(path.join(configDir, 'test.json'), JSON.stringify({ 'drachtio-sut': sutConf(testbed.edges['drachtio-sut']), 'drachtio-uas': sutConf(testbed.edges['drachtio-uas']) }, null, 2));

const children = [];
function start(name, cmd, args, env = {}) {
  const log = createWriteStream(path.join(work, `${name}.log`));
  const child = spawn(cmd, args, { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  children.push(child);
  return child;
}

function waitTcp(host, port, ms = 10_000) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`${host}:${port} not listening`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

for (const [name, e] of Object.entries(testbed.edges)) {
  start(name, process.execPath, [path.join(repo, 'bin/outdial'), 'edge'], {
    OUTDIAL_SIP_HOST: e.address,
    OUTDIAL_SIP_PORT: String(e.sipPort),
    OUTDIAL_EDGE_HOST: e.address,
    OUTDIAL_EDGE_PORT: String(e.wirePort),
    OUTDIAL_EDGE_SECRET: testbed.secret,
    OUTDIAL_LOG_LEVEL: process.env.OUTDIAL_LOG_LEVEL ?? 'debug',
  });
}
for (const [name, u] of Object.entries(testbed.uas)) {
  start(name, 'sipp', ['-sf', path.join(testDir, 'scenarios', u.scenario), '-i', u.address, '-p', '5060', '-nostdin', '-trace_err', '-error_file', path.join(work, `${name}.errors.log`)]);
}
await Promise.all(Object.values(testbed.edges).map((e) => waitTcp(e.address, e.wirePort)));
await new Promise((r) => setTimeout(r, 500));

const results = [];
const testGroups = new Set();
process.on('exit', () => {
  for (const pid of testGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
for (const file of files) {
  const out = createWriteStream(path.join(work, `${file}.tap`));
  // its own process group, so the sipp processes a test file leaves behind are stopped with it
  const child = spawn(process.execPath, [file], {
    detached: true,
    cwd: testDir,
    env: { ...process.env, NODE_ENV: 'test', NODE_CONFIG_DIR: configDir, NODE_PATH: path.join(repo, 'node_modules'), SUPPRESS_NO_CONFIG_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  testGroups.add(child.pid);
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let tap = '';
  let reported = false;
  child.stdout.on('data', (d) => {
    tap += d;
    out.write(d);
    // tape's summary, or its timeout of the file's one test: the tests have ended; what is still
    // running (a sipp waiting for a message that never comes, srf's connection) only keeps the
    // process alive
    if (!reported && (/^# (ok|fail\s+\d+)\s*$/m.test(tap) || /^not ok \d+ .* timed out after \d+ms$/m.test(tap))) {
      reported = true;
      setTimeout(killGroup, 500);
    }
  });
  child.stderr.on('data', (d) => out.write(d));
  const timer = setTimeout(killGroup, FILE_TIMEOUT_MS);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  killGroup();
  const ok = tap.split('\n').filter((l) => /^ok \d+/.test(l));
  const notOk = tap.split('\n').filter((l) => /^not ok \d+/.test(l));
  results.push({ file, ok: ok.length, notOk: notOk.length, failures: notOk.map((l) => l.replace(/^not ok \d+ /, '')) });
  console.log(`${file}: ${ok.length} ok, ${notOk.length} not ok${notOk.length ? `\n  - ${notOk.join('\n  - ')}` : ''}`);
}
const pass = results.reduce((n, r) => n + r.ok, 0);
const fail = results.reduce((n, r) => n + r.notOk, 0);
console.log(`\ndrachtio-srf integration checks against outdial edge: ${pass} passed, ${fail} failed`);
console.log(`logs and TAP output: ${work}`);
stopAll();
process.exit(0);
