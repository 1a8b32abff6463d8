// The survey form in a real headless Chromium (the system's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded), as a customer on a 360-px-wide phone:
// open the link, answer with taps and the keyboard, send, see the thank-you page.
// Usage: node form_test.mjs URL SCREENSHOT.png  — prints one JSON line with what it saw.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node form_test.mjs URL SCREENSHOT.png');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'hearken-chromium-'));
const result = { consoleErrors: [], steps: [] };
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    javaScriptEnabled: false, // the form must work without it
    timeout: 60000,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.consoleErrors.push(String(e)));

  const resp = await page.goto(url, { waitUntil: 'load' });
  result.getStatus = resp.status();
  result.lang = await page.getAttribute('html', 'lang');
  result.cssApplied = await page.$eval('button[type=submit]', (b) => getComputedStyle(b).display === 'block'
    && getComputedStyle(b).width !== 'auto');

  // layout at 360 px: no sideways scrolling, tap targets large enough
  const layout = await page.evaluate(() => {
    const box = (el) => el.getBoundingClientRect();
    const labels = [...document.querySelectorAll('.opts label')].map(box);
    const checks = [...document.querySelectorAll('.check label')].map(box);
    return {
      scrollWidth: document.documentElement.scrollWidth,
      minOptWidth: Math.min(...labels.map((b) => b.width)),
      minOptHeight: Math.min(...labels.map((b) => b.height)),
      minCheckHeight: Math.min(...checks.map((b) => b.height)),
      bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
      submitHeight: box(document.querySelector('button[type=submit]')).height,
    };
  });
  result.layout = layout;

  // taps: NPS 9, felt heard 5, a behaviour; keyboard: CSAT by arrow keys
  await page.tap('label[for="nps-9"]');
  await page.tap('label[for="felt_heard-5"]');
  await page.tap('label[for="b-listened_actively"]');
  await page.focus('#csat-1');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  result.focusVisible = await page.$eval('label[for="csat-4"]', (l) => getComputedStyle(l).outlineStyle);
  await page.fill('#comment', 'Priya listened without interrupting and fixed the double charge.');
  result.checked = await page.evaluate(() => [...document.querySelectorAll('input:checked')]
    .map((i) => `${i.name}=${i.value}`));
  await page.screenshot({ path: shot, fullPage: true });
  result.steps.push('filled');

  const [nav] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.tap('button[type=submit]'),
  ]);
  result.postStatus = nav ? nav.status() : null;
  result.heading = await page.textContent('h1');
  result.steps.push('submitted');
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
