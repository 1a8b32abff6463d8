// The managers' dashboard in a real headless Chromium (the system's /usr/bin/chromium, driven
// by playwright-core; no browser is ever downloaded) at 1280 px: sign in with the manager key,
// wait for every panel, measure the charts, read the coaching queue, open one agent's
// comments and look at the highlighted cues; record console errors and CSP violations.
// Usage: node dashboard_test.mjs URL MANAGER_KEY SCREENSHOT.png [FULL_PAGE.png] — prints one
// JSON line with what it saw.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, key, shot] = process.argv.slice(2);
if (!base || !key || !shot) {
  console.error('usage: node dashboard_test.mjs URL MANAGER_KEY SCREENSHOT.png');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'hearken-chromium-'));
const result = { consoleErrors: [], cspViolations: [], failedRequests: [], steps: [] };
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    timeout: 60000,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.consoleErrors.push(String(e)));
  page.on('requestfailed', (r) => result.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) result.failedRequests.push(`${r.url()} ${r.status()}`); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__csp = window.__csp || []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  const resp = await page.goto(`${base}/dashboard`, { waitUntil: 'load' });
  result.getStatus = resp.status();
  result.csp = resp.headers()['content-security-policy'];
  result.loginVisible = await page.isVisible('#login-form');
  result.appHiddenBeforeLogin = await page.isHidden('#app');

  // a wrong key first: refused, nothing shown
  await page.fill('#key', 'not-the-key');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  result.wrongKeyMessage = await page.textContent('#login-error');
  result.appHiddenAfterWrongKey = await page.isHidden('#app');
  // the refusal is expected: Chromium logs it as a failed resource load
  result.failedRequests = result.failedRequests.filter((r) => !r.endsWith(' 403'));
  result.consoleErrors = result.consoleErrors.filter((m) => !m.includes('status of 403'));

  await page.fill('#key', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  result.steps.push('loaded');
  result.keyStored = await page.evaluate(() => sessionStorage.getItem('hearken.managerKey') !== null);
  result.status = await page.textContent('#status');

  // charts: each canvas has a size and painted pixels
  result.charts = await page.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => {
    const r = c.getBoundingClientRect();
    const ctx = c.getContext('2d');
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
    return { id: c.id, width: r.width, height: r.height, painted, chart: !!(window.Chart && window.Chart.getChart(c)) };
  }));
  result.kpis = await page.$$eval('#kpis .kpi', (ks) => ks.map((k) => [k.querySelector('.label').textContent, k.querySelector('.value').textContent]));
  result.coaching = await page.$$eval('#coaching-table tbody tr[data-agent]', (rows) => rows.map((r) => ({
    agent: r.dataset.agent,
    cells: [...r.cells].map((c) => c.innerText.trim()),
  })));
  result.notEnough = await page.textContent('#not-enough');
  result.agentRows = await page.$$eval('#agents-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
  result.scenarioRows = await page.$$eval('#scenarios-table tbody tr', (rows) => rows.length);
  result.impactRows = await page.$$eval('#impact-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));

  // the overview at the top, for the README
  await page.evaluate(() => window.scrollTo(0, 0));
  const height = await page.evaluate(() => Math.min(document.documentElement.scrollHeight,
    document.getElementById('agents').getBoundingClientRect().top + window.scrollY - 8));
  await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });

  // the comment explorer, from the coaching queue: agent-ben's comments with cues
  await page.click('#coaching-table tbody tr[data-agent="agent-ben"] .agent-link');
  await page.waitForFunction(() => {
    const items = document.querySelectorAll('#comment-list li.comment');
    return items.length > 0 && [...items].every((li) => li.querySelector('.meta span')?.textContent === 'agent-ben');
  }, null, { timeout: 20000 });
  result.comments = await page.$$eval('#comment-list li.comment', (lis) => lis.map((li) => ({
    agent: li.querySelector('.meta span')?.textContent,
    text: li.querySelector('.text')?.textContent,
    marks: [...li.querySelectorAll('mark.cue')].map((m) => ({ text: m.textContent, cls: m.className, title: m.title })),
  })));
  // nothing from the data became markup: marks are the only elements inside comment text
  result.foreignElements = await page.$$eval('#comment-list .text *', (els) => els.filter((e) => e.tagName !== 'MARK').length);
  if (process.argv[5]) await page.screenshot({ path: process.argv[5], fullPage: true }); // for review
  result.csp = result.csp || null;
  result.cspViolations = await page.evaluate(() => window.__csp || []);
  result.steps.push('comments');
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
