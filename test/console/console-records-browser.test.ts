import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER } from '../admin/support/admin-harness.ts';
import { CUSTOMER, describeRun, startRoutingHarness, type RoutingHarness } from '../routing/support/routing-harness.ts';
import { launchChromium, type Chromium } from './support/chromium.ts';

/**
 * The console's test-call, calls, agents and access-keys pages in headless Chromium, against a
 * real engine whose carriers and platform are sipp processes over real UDP. Each step is done as
 * an admin would and checked on the page and through the API; screenshots go to
 * test-output/console/.
 */

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');
const STEP_MS = 15_000;

let h: RoutingHarness;
let browser: Chromium;
let page: Page;
const pageErrors: string[] = [];
const label = (text: string) => page.getByLabel(text, { exact: true });

async function shot(name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function api(method: string, path: string, body?: unknown) {
  const r = await h.t.request(method, path, body === undefined ? {} : { body });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function nav(title: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await startRoutingHarness();
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${msg.text()}`);
  });
  await page.goto(`${h.t.base}/console`);
  await label('Username').fill(ADMIN_USER);
  await label('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
}, 30_000);

describe('the console: test calls, calls, agents and access keys in a real browser', { timeout: 120_000 }, () => {
  it('runs a provider test call against a sipp carrier from the provider list and shows how it ended', async () => {
    const carrier = await h.carrier('carrier-answer.xml');
    const provider = await api('POST', '/v1.0/providers', { type: 'sip', hostname: `127.0.0.1:${carrier.port}`, name: 'Answering trunk', tech_prefix: '00', codecs: 'PCMU' });
    await page.reload();
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Test call through Answering trunk' }).click();
    await page.getByRole('heading', { name: 'Test calls', level: 1 }).waitFor();
    // the provider select fills in once the providers list has loaded
    await expect.poll(() => label('Provider').inputValue(), { timeout: STEP_MS }).toBe(provider.id);

    // a number the API refuses: its message beside the number field, nothing placed
    await label('Number').fill('5551234567');
    await page.getByRole('button', { name: 'Place test call' }).click();
    const numberError = page.locator('[data-field="destination"] .field-error');
    await numberError.waitFor();
    expect(await numberError.textContent()).toContain('destination');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('providercall-destination');
    expect((await api('GET', '/v1.0/providercalls')).result).toEqual([]);
    await shot('11-test-call-number-error');

    await label('Number').fill('+15551234567');
    await label('Calling number').fill('+15550001111');
    await page.getByRole('button', { name: 'Place test call' }).click();
    await page.getByRole('heading', { name: 'Test call to +15551234567' }).waitFor();
    const status = page.locator('.test-call-headline .test-call-status');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: STEP_MS }).toBe('answered');
    expect(await status.textContent()).toContain('Answered');
    expect(await status.textContent()).toContain('200');
    const [stored] = (await api('GET', `/v1.0/providercalls?provider_id=${provider.id}`)).result;
    expect(stored).toMatchObject({ status: 'answered', sip_status: 200, request_uri: `sip:00+15551234567@127.0.0.1:${carrier.port}` });
    expect(await page.getByTestId('test-call-request-uri').textContent()).toBe(stored.request_uri);
    expect(await page.locator('.test-call-reason').textContent()).toContain('BYE');
    await shot('12-test-call-answered');
    const result = await carrier.done;
    expect(result.code, describeRun('carrier', result)).toBe(0);

    // a carrier that refuses: the status and the carrier's reason phrase, and the recent list
    const busy = await h.carrier('carrier-reject.xml', { status: '486 Busy Here' });
    const busyProvider = await api('POST', '/v1.0/providers', { type: 'sip', hostname: `127.0.0.1:${busy.port}`, name: 'Busy trunk' });
    await page.getByRole('link', { name: 'New test call' }).click();
    await page.getByRole('heading', { name: 'Test calls', level: 1 }).waitFor();
    await label('Provider').selectOption(busyProvider.id);
    await label('Number').fill('+442071234567');
    await label('Number').press('Enter');
    await page.getByRole('heading', { name: 'Test call to +442071234567' }).waitFor();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: STEP_MS }).toBe('failed');
    expect(await status.textContent()).toContain('486 Busy Here');
    await page.getByRole('navigation').getByRole('link', { name: 'Test calls' }).click();
    const rows = page.getByRole('table', { name: 'Recent test calls' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    // provider names fill in once the providers list has loaded beside the test calls
    await expect.poll(() => rows.first().textContent(), { timeout: STEP_MS }).toContain('Busy trunk');
    expect(await rows.nth(1).textContent()).toContain('Answered');
    await shot('13-test-calls');
  });

  it('lists sipp calls with their attempts, filters them, and shows one call', async () => {
    await h.reset();
    // answered at once; failed over from a 503; every carrier failing
    const a = await h.carrier('carrier-answer.xml');
    await h.provision(a, { target: '+1555' }, { name: 'Carrier A' });
    const b = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c = await h.carrier('carrier-answer.xml');
    await h.provision(b, { target: '+44', customer_id: CUSTOMER, priority: 1 }, { name: 'Carrier B' });
    await h.provision(c, { target: '+44', customer_id: CUSTOMER, priority: 2 }, { name: 'Carrier C' });
    const d = await h.carrier('carrier-reject.xml', { status: '502 Bad Gateway' });
    await h.provision(d, { target: '+1666' }, { name: 'Carrier D' });
    for (const [scenario, number, customer] of [
      ['platform-call.xml', '+15551234567', undefined],
      ['platform-call.xml', '+442071234567', CUSTOMER],
      ['platform-call-fails.xml', '+16661234567', undefined],
    ] as const) {
      const platform = await h.platform(scenario, number, customer ? { customer } : {});
      expect(platform.code, describeRun('platform', platform)).toBe(0);
    }
    await h.t.engine.callRecords.flush();
    const calls = (await api('GET', '/v1.0/calls')).result as Array<{ id: string; destination: string }>;
    expect(calls.map((x) => x.destination)).toEqual(['+16661234567', '+442071234567', '+15551234567']);

    await nav('Calls');
    const rows = page.getByRole('table', { name: 'Calls' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-call-id')))).toEqual(calls.map((x) => x.id));
    const failedOver = rows.nth(1);
    expect(await failedOver.textContent()).toContain('Connected');
    // provider names fill in once the providers list has loaded beside the calls
    await expect.poll(() => failedOver.textContent(), { timeout: STEP_MS }).toContain('via Carrier C');
    await failedOver.getByText('2 attempts: 503 → 200').click();
    const lines = failedOver.locator('.attempt-lines li');
    expect(await lines.count()).toBe(2);
    expect(await lines.first().textContent()).toContain('Service Unavailable');
    expect(await lines.first().textContent()).toContain('Carrier B');
    expect(await lines.first().locator('.request-uri').textContent()).toBe(`sip:+442071234567@127.0.0.1:${b.port}`);
    expect(await rows.first().textContent()).toContain('Failed');
    expect(await rows.first().textContent()).toContain('502');
    await shot('14-calls');

    // filters: a malformed number beside its field; then failed calls only; then one customer
    await label('Number starts with').fill('1555');
    await page.getByRole('button', { name: 'Show calls' }).click();
    const destinationError = page.locator('[data-field="destination"] .field-error');
    await destinationError.waitFor();
    expect(await destinationError.textContent()).toContain('destination');
    await label('Number starts with').fill('');
    await label('Outcome').selectOption('failed');
    await page.getByRole('button', { name: 'Show calls' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-call-id')).toBe(calls[0]!.id);
    expect(page.url()).toContain('outcome=failed');
    await label('Outcome').selectOption('');
    await label('Customer').fill(CUSTOMER);
    await page.getByRole('button', { name: 'Show calls' }).click();
    await expect.poll(async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-call-id')) === calls[1]!.id).toBe(true);
    await shot('15-calls-filtered');

    // one call: its attempts in a table
    await rows.first().getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Call to +442071234567' }).waitFor();
    const attempts = page.getByRole('table', { name: 'Attempts' }).locator('tbody tr');
    expect(await attempts.count()).toBe(2);
    expect(await attempts.nth(0).textContent()).toContain('503');
    expect(await attempts.nth(1).textContent()).toContain('200');
    await shot('16-call');
  });

  it('creates an access key (shown once), lists it, and deletes it', async () => {
    await nav('Access keys');
    await label('Key name').fill('ci');
    await label('Lifetime').selectOption({ label: '30 days' });
    await page.getByRole('button', { name: 'Create access key' }).click();
    const shown = label('The new access key');
    await shown.waitFor();
    const key = await shown.inputValue();
    expect(key).toMatch(/^od_/);
    const row = page.getByRole('table', { name: 'Access keys' }).locator('tr', { hasText: 'ci' });
    await row.waitFor();
    const [stored] = (await api('GET', '/v1.0/accesskeys')).result as Array<{ id: string; token_prefix: string; tm_expire: string }>;
    expect(await row.textContent()).toContain(stored!.token_prefix);
    expect(key.startsWith(stored!.token_prefix)).toBe(true);
    await shot('19-access-key-created');
    // the key works, and is never shown again
    expect((await h.t.request('GET', `/v1.0/providers?accesskey=${key}`, { token: null })).status).toBe(200);
    await page.reload();
    await page.getByRole('heading', { name: 'Access keys', level: 1 }).waitFor();
    await row.waitFor();
    expect(await page.content()).not.toContain(key);

    await page.getByRole('button', { name: 'Delete access key ci' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this access key?' });
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('No access keys yet').waitFor();
    expect((await h.t.request('GET', `/v1.0/providers?accesskey=${key}`, { token: null })).status).toBe(401);
    await shot('20-access-keys');
    expect(h.t.logs.text()).not.toContain(key);
  });

  it('manages agents: a bad password beside its field, permissions as named flags, delete, and one\'s own password (last: it ends the harness token)', async () => {
    await nav('Agents');
    expect(await page.locator('tr', { hasText: ADMIN_USER }).textContent()).toContain('(you)');
    await page.getByRole('link', { name: 'New agent' }).click();
    await page.getByRole('heading', { name: 'New agent' }).waitFor();
    await label('Username').fill('carol');
    await label('Password').fill('short');
    await label('Name').fill('Carol');
    await page.getByRole('checkbox', { name: /^CustomerAdmin/ }).check();
    await page.getByRole('button', { name: 'Create agent' }).click();
    const passwordError = page.locator('[data-field="password"] .field-error');
    await passwordError.waitFor();
    expect(await passwordError.textContent()).toMatch(/password/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('agent-password');
    await shot('17-agent-password-error');
    await label('Password').fill('carol has a long password');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    const row = page.locator('tr', { hasText: 'carol' });
    await row.waitFor();
    expect(await row.locator('.chip').allTextContents()).toEqual(['CustomerAdmin']);
    const carol = ((await api('GET', '/v1.0/agents')).result as Array<{ id: string; username: string; permission: number }>).find((x) => x.username === 'carol')!;
    expect(carol.permission).toBe(0x0020);

    // every customer flag: CustomerAll follows, and the API has 0x00F0
    await page.getByRole('link', { name: 'Edit agent carol' }).click();
    await page.getByRole('heading', { name: 'Edit agent carol' }).waitFor();
    await page.getByRole('checkbox', { name: /^CustomerAll/ }).check();
    expect(await page.getByRole('checkbox', { name: /^CustomerAgent/ }).isChecked()).toBe(true);
    await shot('18-agent-edit');
    await page.getByRole('button', { name: 'Save agent' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    await expect.poll(async () => (await api('GET', `/v1.0/agents/${carol.id}`)).permission).toBe(0x00f0);
    // the list is loaded again after the save: wait for its row rather than read it before it is there
    await expect.poll(async () => page.locator('tr', { hasText: 'carol' }).locator('.chip').allTextContents()).toEqual(['CustomerAll']);

    await page.getByRole('button', { name: 'Delete agent carol' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this agent?' });
    await dialog.getByRole('button', { name: 'Delete agent' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await api('GET', `/v1.0/agents/${carol.id}`)).tm_delete).not.toBe('9999-01-01T00:00:00.000000Z');

    // one's own password: a wrong current one beside its field, then the change, still logged in
    await page.getByRole('link', { name: 'Change my password' }).click();
    await page.getByRole('heading', { name: 'Change my password' }).waitFor();
    await label('Current password').fill('not my password');
    await label('New password').fill('a brand new admin password');
    await page.getByRole('button', { name: 'Change password' }).click();
    const oldError = page.locator('[data-field="old_password"] .field-error');
    await oldError.waitFor();
    expect(await oldError.textContent()).toContain('old_password');
    await label('Current password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed').waitFor();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    // the browser holds a fresh token: the next pages load without logging in again
    await nav('Calls');
    await page.getByRole('table', { name: 'Calls' }).waitFor();
    await expect(h.t.login(ADMIN_USER, ADMIN_PASSWORD)).rejects.toThrow(/401/);
    expect(await h.t.login(ADMIN_USER, 'a brand new admin password')).toBeTypeOf('string');
    expect(pageErrors).toEqual([]);
  });
});
