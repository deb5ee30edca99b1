import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER, startTestEngine, type TestEngine } from '../admin/support/admin-harness.ts';
import { launchChromium, type Chromium } from './support/chromium.ts';

/**
 * The console in headless Chromium against a real engine (admin API on port 0, a real SQLite
 * file, the embedded SIP edge on free ports): every step is done as an admin would, with the
 * keyboard and mouse, and checked both on the page and through the API. A screenshot of each
 * page goes to test-output/console/.
 */

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');
const STEP_MS = 15_000;

let t: TestEngine;
let browser: Chromium;
let page: Page;
/** the session token the login set (read from the browser's cookie jar, never from the page) */
let token = '';
/** Script errors and CSP refusals; "Failed to load resource" lines are the API's own 4xx answers. */
const pageErrors: string[] = [];

/** The control a label names, matched exactly ("Name" is not "Hostname"). */
const label = (text: string) => page.getByLabel(text, { exact: true });

async function shot(name: string): Promise<void> {
  // a full-page shot of a scrolled page would draw the sticky top bar mid-page
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function api(method: string, path: string) {
  const r = await t.request(method, path);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestEngine();
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${msg.text()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
}, 30_000);

describe('the console in a real browser', { timeout: 120_000 }, () => {
  it('logs in, refuses a wrong password first, and keeps the token out of script reach', async () => {
    const response = await page.goto(`${t.base}/console`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole('heading', { name: 'outdial console' }).isVisible()).toBe(true);
    await shot('01-login');

    await label('Username').fill(ADMIN_USER);
    await label('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('INVALID_CREDENTIALS');

    await label('Password').fill(ADMIN_PASSWORD);
    await label('Password').press('Enter');
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await page.getByText('No providers yet').waitFor();
    await shot('02-providers-empty');

    const cookie = (await browser.context.cookies(t.base)).find((c) => c.name === 'token');
    expect(cookie?.httpOnly).toBe(true);
    token = cookie!.value;
    const visible = await page.evaluate(() => [document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join('\n'));
    expect(visible).not.toContain(token);
    expect(visible).not.toContain('token=');
  });

  it('shows a bad hostname beside the hostname field, then creates the provider once it is fixed', async () => {
    await page.getByRole('link', { name: 'New provider' }).first().click();
    await page.getByRole('heading', { name: 'New provider' }).waitFor();
    await label('Name').fill('Carrier A');
    await label('Detail').fill('sipp carrier on 5080');
    await label('Hostname').fill('bad host!');
    await label('Tech prefix').fill('0011');
    await label('Tech postfix').fill('#');
    // the codecs editor: type + Enter, then reorder with the keyboard-reachable buttons
    await label('Codecs').fill('PCMU');
    await label('Codecs').press('Enter');
    await label('Codecs').fill('PCMA');
    await label('Codecs').press('Enter');
    await page.getByRole('button', { name: 'Move PCMA up' }).click();
    await page.getByRole('button', { name: 'Add header' }).click();
    await label('Header 1 name').fill('X-Trunk-Id');
    await label('Header 1 value').fill('trunk-42');
    await page.getByRole('button', { name: 'Create provider' }).click();

    const hostnameField = page.locator('[data-field="hostname"]');
    const error = hostnameField.locator('.field-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('"bad host!"');
    const input = label('Hostname');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(await input.getAttribute('aria-describedby')).toContain((await error.getAttribute('id'))!);
    // beside the field, not at the top, and only there
    expect(await page.locator('.field-error').count()).toBe(1);
    expect(await page.getByText('The provider was not saved').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('provider-hostname');
    expect((await api('GET', '/v1.0/providers')).result).toEqual([]);
    await shot('03-provider-hostname-error');

    await input.fill('127.0.0.1:5080');
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    const row = page.locator('tr', { hasText: 'Carrier A' });
    await row.waitFor();
    expect(await row.textContent()).toContain('127.0.0.1:5080');
    expect(await row.locator('.badge').allTextContents()).toEqual(['Unknown', 'Off']); // health, then registration

    const [stored] = (await api('GET', '/v1.0/providers')).result;
    expect(stored).toMatchObject({
      name: 'Carrier A',
      detail: 'sipp carrier on 5080',
      hostname: '127.0.0.1:5080',
      tech_prefix: '0011',
      tech_postfix: '#',
      tech_headers: { 'X-Trunk-Id': 'trunk-42' },
      codecs: 'PCMA,PCMU',
    });
    await shot('04-providers');
  });

  it('edits the provider with every field prefilled (a full replace that keeps what was not touched)', async () => {
    await page.getByRole('link', { name: 'Edit Carrier A' }).click();
    await page.getByRole('heading', { name: 'Edit provider Carrier A' }).waitFor();
    expect(await label('Hostname').inputValue()).toBe('127.0.0.1:5080');
    expect(await label('Header 1 value').inputValue()).toBe('trunk-42');
    expect(await page.locator('.codec-name').allTextContents()).toEqual(['PCMA', 'PCMU']);
    await label('Detail').fill('sipp carrier, edited');
    await shot('05-provider-edit');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await page.getByText('sipp carrier, edited').waitFor();
    const [stored] = (await api('GET', '/v1.0/providers')).result;
    expect(stored).toMatchObject({ detail: 'sipp carrier, edited', codecs: 'PCMA,PCMU', tech_headers: { 'X-Trunk-Id': 'trunk-42' }, tech_prefix: '0011', tech_postfix: '#' });
  });

  it('gives the provider trunk credentials: the password is write-only, kept on an edit that leaves it empty', async () => {
    const PASSWORD = 'console trunk pw 55';
    await page.getByRole('link', { name: 'Edit Carrier A' }).click();
    await page.getByRole('heading', { name: 'Edit provider Carrier A' }).waitFor();
    expect(await label('Auth password').getAttribute('placeholder')).toBe('not set');
    expect(await label('Transport').inputValue()).toBe('udp');
    expect(await label('Send the number with its +').isChecked()).toBe(true);
    await label('Auth user name').fill('trunk-7781');
    await label('Auth password').fill(PASSWORD);
    await label('Max concurrent calls').fill('2');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await page.getByRole('columnheader', { name: 'Registration' }).waitFor();
    let [stored] = (await api('GET', '/v1.0/providers')).result;
    expect(stored).toMatchObject({ auth_username: 'trunk-7781', auth_password_set: true, max_calls: 2, register: false, registration_status: 'off', transport: 'udp', leading_plus: true });

    await page.getByRole('link', { name: 'Edit Carrier A' }).click();
    await page.getByRole('heading', { name: 'Edit provider Carrier A' }).waitFor();
    expect(await label('Auth password').inputValue()).toBe('');
    expect(await label('Auth password').getAttribute('placeholder')).toBe('set — leave empty to keep it');
    expect(await label('Auth user name').inputValue()).toBe('trunk-7781');
    expect(await page.content()).not.toContain(PASSWORD);
    await label('Detail').fill('sipp carrier, with credentials');
    await shot('05b-provider-credentials');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('sipp carrier, with credentials').waitFor();
    [stored] = (await api('GET', '/v1.0/providers')).result;
    expect(stored).toMatchObject({ detail: 'sipp carrier, with credentials', auth_username: 'trunk-7781', auth_password_set: true });
    expect(await page.content()).not.toContain(PASSWORD);
  });

  it('adds routes (a bad target is shown beside the target), lists them in dial-plan order and edits a priority in place', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Routes' }).click();
    await page.getByRole('heading', { name: 'Routes', level: 1 }).waitFor();
    await page.getByText('No default routes yet').waitFor();

    const addRoute = async (target: string, priority: string, name: string) => {
      await page.getByRole('link', { name: 'Add route' }).first().click();
      await page.getByRole('heading', { name: 'Add route' }).waitFor();
      await label('Target').fill(target);
      await label('Provider').selectOption({ label: 'Carrier A — 127.0.0.1:5080' });
      await label('Priority').fill(priority);
      await label('Name').fill(name);
      await page.getByRole('button', { name: 'Add route' }).click();
    };

    await addRoute('+1x', '1', 'us');
    const targetError = page.locator('[data-field="target"] .field-error');
    await targetError.waitFor();
    expect(await targetError.textContent()).toContain('target');
    expect(await page.locator('.field-error').count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('route-target');
    await shot('06-route-target-error');
    await label('Target').fill('+1');
    await page.getByRole('button', { name: 'Add route' }).click();
    await page.locator('tr', { hasText: '+1' }).first().waitFor();

    await addRoute('+1555', '5', 'us 555');
    await page.locator('tr', { hasText: '+1555' }).waitFor();
    // the more specific target first, although its priority is higher
    expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['+1555', '+1']);

    const priority = page.getByLabel('Priority of route us', { exact: true });
    await priority.fill('0');
    await priority.press('Enter');
    await page.getByText('Priority of us set to 0').waitFor();
    const routes = (await api('GET', '/v1.0/routes')).result as Array<{ name: string; priority: number; target: string }>;
    expect(routes.map((r) => [r.target, r.priority, r.name]).sort()).toEqual([['+1', 0, 'us'], ['+1555', 5, 'us 555']]);
    await expect.poll(() => priority.inputValue()).toBe('0');
    await shot('07-routes');

    // the customer filter: the API's refusal of a malformed id lands beside the customer box
    await label('Customer').fill('not-a-uuid');
    await page.getByRole('button', { name: 'Show routes' }).click();
    const customerError = page.locator('[data-field="customer_id"] .field-error');
    await customerError.waitFor();
    expect(await customerError.textContent()).toContain('customer_id');
    // another customer falls back to the default routes, listed after its own (none here)
    await label('Customer').fill('6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60');
    await page.getByRole('button', { name: 'Show routes' }).click();
    await page.getByText('This customer has no routes of its own').waitFor();
    const fallback = page.getByRole('table', { name: 'Default routes' });
    expect(await fallback.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['+1555', '+1']);
    await shot('07b-routes-other-customer');
    await page.getByRole('link', { name: 'Default routes' }).click();
    await page.getByRole('table', { name: 'Default routes (every customer)' }).waitFor();
  });

  it('previews a number: the exact Request-URI, headers and codecs of GET /v1.0/dialroutes', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Dial plan' }).click();
    await page.getByRole('heading', { name: 'Dial plan', level: 1 }).waitFor();

    await label('Number').fill('12ab');
    await page.getByRole('button', { name: 'Preview' }).click();
    const numberError = page.locator('[data-field="target"] .field-error');
    await numberError.waitFor();
    expect(await numberError.textContent()).toContain('target must be');

    await label('Number').fill('+15551234567');
    await label('Number').press('Enter');
    const uris = page.locator('.request-uri');
    await uris.first().waitFor();
    const expected = (await api('GET', '/v1.0/dialroutes?target=%2B15551234567')).result as Array<{ request_uri: string }>;
    expect(expected.map((a) => a.request_uri)).toEqual(['sip:0011+15551234567%23@127.0.0.1:5080']);
    expect(await uris.allTextContents()).toEqual(expected.map((a) => a.request_uri));
    const attempt = page.locator('.attempt').first();
    expect(await attempt.textContent()).toContain('X-Trunk-Id: trunk-42');
    expect(await attempt.locator('.chip').allTextContents()).toEqual(['PCMA', 'PCMU']);
    expect(await attempt.textContent()).toContain('us 555'); // the +1555 route: the provider is tried once
    await shot('08-dialplan');

    await label('Number').fill('+4420123456');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByText('No route for +4420123456').waitFor();
  });

  it('refuses to delete a provider in use and names the routes that use it', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Providers' }).click();
    await page.getByRole('button', { name: 'Delete Carrier A' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this provider?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete provider' }).click();
    await dialog.getByText('This provider is still in use').waitFor();
    expect(await dialog.textContent()).toContain('PROVIDER_IN_USE');
    const listed = await dialog.getByRole('list', { name: 'Routes using this provider' }).getByRole('link').allTextContents();
    const routeIds = ((await api('GET', '/v1.0/routes')).result as Array<{ id: string }>).map((r) => r.id);
    expect(listed.sort()).toEqual(routeIds.sort());
    await shot('09-provider-in-use');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await api('GET', '/v1.0/providers')).result).toHaveLength(1);
  });

  it('logs out: the cookie is gone and the API refuses the browser', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    expect((await browser.context.cookies(t.base)).find((c) => c.name === 'token')).toBeUndefined();
    const status = await page.evaluate(async () => (await fetch('/v1.0/providers')).status);
    expect(status).toBe(401);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await shot('10-logged-out');
    expect(pageErrors).toEqual([]);
    expect(token).not.toBe('');
    expect(t.logs.text()).not.toContain(token);
    expect(t.logs.text()).not.toContain(ADMIN_PASSWORD);
  });
});
