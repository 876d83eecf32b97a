// The console in a real browser (Debian's chromium, driven by playwright-core) against
// the local stack `eventctl serve --demo` started by scripts/console-browser.sh: finds
// the demo alert open, acknowledges and resolves it through the page, filters events
// by severity, checks the chart against a stat call, disables and enables a webhook,
// shows an API error in words, works from the keyboard, and passes axe-core's WCAG 2 AA
// rules (contrast among them) on each view. A screenshot of each step goes to the
// artifacts directory.
//   node tests/browser/console.mjs <base url> <domain_id> <artifacts dir>

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, domain, artifacts] = process.argv.slice(2);
if (!base || !domain || !artifacts) throw new Error('usage: console.mjs <base url> <domain_id> <artifacts dir>');
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const axeSource = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

let step = 0;
const passed = [];
function check(condition, what) {
  if (!condition) throw new Error(`FAILED: ${what}`);
  passed.push(what);
}

/** The API itself, as the page calls it (to compare what the page shows). */
async function api(path, body) {
  const response = await fetch(`${base}/monitoring/v1/${path}`, {
    method: 'POST',
    body: JSON.stringify({ domain_id: domain, ...body }),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return answer;
}

const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
  // axe-core is injected as an inline script, which the console's own policy forbids.
  bypassCSP: true,
});
const page = context.pages()[0] || (await context.newPage());
const elsewhere = [];
const loaded = [];
const figures = [];
page.on('response', (response) => {
  if (new URL(response.url()).pathname.includes('/console')) loaded.push(response.body().then((b) => b.length, () => 0));
});
const consoleErrors = [];
page.on('request', (request) => {
  if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) elsewhere.push(request.url());
});
page.on('pageerror', (error) => consoleErrors.push(String(error)));

async function screenshot(name) {
  step += 1;
  await page.screenshot({ path: join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function accessible(view) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }));
  const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  check(found.length === 0, `${view}: no WCAG 2 AA violations (axe-core ${result.testEngine.version}) ${found.join('; ')}`);
}

/** Tabs from the top of the page until `locator` has the focus (at most `most` presses). */
async function tabTo(locator, what, most = 40) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < most; i += 1) {
    if (await locator.evaluate((node) => node === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`FAILED: ${what} cannot be reached with Tab`);
}

try {
  // Sign in from the keyboard.
  let started = performance.now();
  await page.goto(`${base}/console`);
  await page.locator('#sign-in fieldset:not([disabled]) input').waitFor();
  const pageReady = Math.round(performance.now() - started);
  const sizes = await Promise.all(loaded);
  figures.push(`page ready in ${pageReady} ms: ${sizes.length} files, ${sizes.reduce((a, b) => a + b, 0)} bytes`);
  await screenshot('sign-in');
  await accessible('sign-in');
  await page.keyboard.press('Tab');
  check(await page.locator('#sign-in input').evaluate((n) => n === document.activeElement), 'Tab reaches the domain_id field first');
  await page.keyboard.type(domain);
  started = performance.now();
  await page.keyboard.press('Enter');

  // The demo alert is open.
  const demo = page.locator('#alerts-table tr', { hasText: 'Disk full on web-1' });
  await demo.waitFor();
  figures.push(`open alerts listed ${Math.round(performance.now() - started)} ms after sign-in`);
  check((await demo.locator('.badge').first().textContent()) === 'TRIGGERED', 'the demo alert is listed open (TRIGGERED)');
  const alertId = await demo.getAttribute('data-alert-id');
  await page.waitForFunction((id) => document.querySelector(`tr[data-alert-id="${id}"] td.count`).textContent !== '…', alertId);
  const listed = await api('event/list', { alert_id: alertId, query: { count_only: true } });
  check(Number(await demo.locator('td.count').textContent()) === listed.total_count, `the alert's event count is the API's (${listed.total_count})`);
  await screenshot('alerts-open');
  await accessible('alerts');

  // Open alerts per project, while the demo alert is open.
  await page.locator('nav button[data-view="chart"]').click();
  await page.locator('#projects-chart rect.bar').first().waitFor();
  const perProject = await page.$$eval('#projects-chart rect.bar', (bars) => bars.map((b) => `${b.dataset.project} ${b.dataset.count}`));
  const openStat = await api('alert/stat', { query: { filter: [{ k: 'state', v: ['TRIGGERED', 'ACKNOWLEDGED', 'ERROR'], o: 'in' }], aggregate: [{ group: { keys: [{ key: 'project_id', name: 'p' }], fields: [{ name: 'n', operator: 'count' }] } }] } });
  const openStored = openStat.results.map((r) => `${r.p} ${r.n}`);
  check(perProject.length > 0 && JSON.stringify(perProject.sort()) === JSON.stringify(openStored.sort()), `open alerts per project are the alert stat's (${openStored.join(', ')})`);
  await screenshot('chart-with-open-alert');
  await page.locator('nav button[data-view="alerts"]').click();
  await demo.waitFor();

  // Acknowledge it from the keyboard, then resolve it.
  const acknowledge = demo.getByRole('button', { name: /^Acknowledge/ });
  await tabTo(acknowledge, 'Acknowledge');
  await page.keyboard.press('Enter');
  passed.push('Tab reaches Acknowledge, the Events tab and Apply; Enter activates them');
  await demo.locator('.badge', { hasText: 'ACKNOWLEDGED' }).waitFor();
  check((await api('alert/get', { alert_id: alertId })).state === 'ACKNOWLEDGED', 'Enter on Acknowledge acknowledges the alert (the API agrees)');
  check((await demo.getByRole('button', { name: /^Acknowledge/ }).count()) === 0, 'an acknowledged alert offers no second Acknowledge');
  await screenshot('alert-acknowledged');
  await demo.getByRole('button', { name: /^Resolve/ }).click();
  await demo.locator('.badge', { hasText: 'RESOLVED' }).waitFor();
  const resolved = await api('alert/get', { alert_id: alertId });
  check(resolved.state === 'RESOLVED' && resolved.resolved_at !== '', 'Resolve resolves the alert (the API agrees)');
  check((await demo.locator('button').count()) === 0, 'a resolved alert offers no action');
  await screenshot('alert-resolved');

  // Events, filtered by severity from the keyboard.
  await tabTo(page.locator('nav button[data-view="events"]'), 'the Events tab');
  await page.keyboard.press('Enter');
  await page.locator('#events-table tbody tr').first().waitFor();
  await page.selectOption('#event-severity', 'ERROR');
  await tabTo(page.locator('#event-filters button[type="submit"]'), 'Apply');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('#events-table tbody tr[data-severity]')].every((r) => r.dataset.severity === 'ERROR'));
  const shown = await page.locator('#events-table tbody tr[data-severity="ERROR"]').count();
  const errors = await api('event/list', { severity: 'ERROR', query: { count_only: true } });
  check(shown === errors.total_count && shown > 0, `the ERROR filter shows the API's ${errors.total_count} ERROR events and nothing else`);
  await screenshot('events-error');
  await accessible('events');
  await page.locator('#events-table tbody tr button.link').first().click();
  await page.locator('#event-detail pre.raw').waitFor();
  const raw = JSON.parse(await page.locator('#event-detail pre.raw').textContent());
  check(raw && typeof raw === 'object' && raw.title === 'CPU high on db-1', "an event's detail shows its raw_data, parsed back equal");
  check(/RESOLVED/.test(await page.locator('#event-detail .alert-summary').textContent()), "an event's detail shows its alert and the alert's state");
  await screenshot('event-detail');

  // The chart draws the stored counts: the same as a stat call.
  started = performance.now();
  await page.locator('nav button[data-view="chart"]').click();
  await page.locator('#events-chart rect.bar').first().waitFor();
  figures.push(`chart drawn ${Math.round(performance.now() - started)} ms after its tab is opened`);
  const drawn = await page.$$eval('#events-chart rect.bar', (bars) => bars.map((b) => `${b.dataset.bucket} ${b.dataset.severity} ${b.dataset.count}`).sort());
  const since = new Date(Date.now() - 86400e3 - 600e3).toISOString();
  const stat = await api('event/stat', {
    query: {
      filter: [{ k: 'created_at', v: since, o: 'datetime_gte' }],
      aggregate: [{ group: { keys: [{ key: 'created_at', name: 'bucket', date_format: '%Y-%m-%dT%H' }, { key: 'severity', name: 'severity' }], fields: [{ name: 'count', operator: 'count' }] } }],
    },
  });
  const stored = stat.results.map((r) => `${r.bucket} ${r.severity} ${r.count}`).sort();
  check(JSON.stringify(drawn) === JSON.stringify(stored), `the chart's bars are the stat's counts (${stored.join(', ')})`);
  check(await page.locator('#projects-chart .empty').count() === 1, 'with the demo alert resolved, no project has an open alert');
  await screenshot('chart');
  await accessible('chart');

  // Webhooks: the URL without the key; disable and enable.
  await page.locator('nav button[data-view="webhooks"]').click();
  const hook = page.locator('#webhooks-table tbody tr').first();
  await hook.waitFor();
  const url = await hook.locator('input.url').inputValue();
  check(url.startsWith(origin) && url.endsWith('/_/events'), `the webhook's URL is the header-key form, no key in it (${url})`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  await hook.getByRole('button', { name: /^Copy the URL/ }).click();
  await hook.getByRole('button', { name: /^Copy the URL/ }).filter({ hasText: 'Copied' }).waitFor();
  check((await page.evaluate(() => navigator.clipboard.readText())) === url, 'Copy URL puts the URL on the clipboard');
  const webhookId = await hook.getAttribute('data-webhook-id');
  await hook.getByRole('button', { name: /^Disable/ }).click();
  await hook.locator('.badge', { hasText: 'DISABLED' }).waitFor();
  check((await api('webhook/get', { webhook_id: webhookId })).state === 'DISABLED', 'Disable disables the webhook (the API agrees)');
  await screenshot('webhook-disabled');
  await accessible('webhooks');
  await hook.getByRole('button', { name: /^Enable/ }).click();
  await hook.locator('.badge', { hasText: 'ENABLED' }).waitFor();
  check((await api('webhook/get', { webhook_id: webhookId })).state === 'ENABLED', 'Enable enables it again');

  // An error is shown in words, with what to do: a refused range, then an API refusal.
  await page.locator('nav button[data-view="events"]').click();
  await page.selectOption('#event-range', 'custom');
  await page.fill('#event-from', '2026-01-02T00:00');
  await page.fill('#event-to', '2026-01-01T00:00');
  await page.locator('#event-filters button[type="submit"]').click();
  await page.locator('#notice:not([hidden])').waitFor();
  check(/ends before it starts/.test(await page.locator('#notice').textContent()), 'a range that ends before it starts is refused in words, before any call');
  await Promise.all([page.waitForEvent('load'), page.locator('#sign-out').click()]);
  await page.locator('#sign-in input').fill('domain-of-nobody');
  await page.locator('#sign-in input').press('Enter');
  await page.locator('nav button[data-view="webhooks"]').click();
  await page.locator('#webhooks-table td.empty').waitFor();
  check(await page.locator('#webhooks-table tr[data-webhook-id]').count() === 0, 'another domain sees none of the demo domain\'s webhooks');
  await page.route('**/monitoring/v1/alert/list', (route) => route.fulfill({
    status: 503,
    contentType: 'application/json',
    headers: { 'retry-after': '2' },
    body: JSON.stringify({ error: { code: 'ERROR_STORAGE_UNAVAILABLE', message: 'Storage is unavailable or did not answer in time; nothing is wrong with the request. Retry after Retry-After seconds.', status: 503 } }),
  }));
  await page.locator('nav button[data-view="alerts"]').click();
  await page.locator('#notice:not([hidden])').waitFor();
  const notice = await page.locator('#notice').textContent();
  check(/Storage is unavailable/.test(notice) && /try again in a few seconds/.test(notice) && /ERROR_STORAGE_UNAVAILABLE/.test(notice), 'an API error shows its SpaceONE message, its code and what to do');
  await screenshot('error-shown');
  await accessible('error notice');

  check(elsewhere.length === 0, `no request to another host (${elsewhere.join(', ')})`);
  check(consoleErrors.length === 0, `no script error in the page (${consoleErrors.join('; ')})`);
} catch (error) {
  await screenshot('failure').catch(() => {});
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
for (const what of passed) console.log(`ok: ${what}`);
for (const figure of figures) console.log(`figure: ${figure}`);
console.log(`console browser test: ${passed.length} checks passed${process.exitCode ? ', then one failed' : ''}; screenshots in ${artifacts}`);
