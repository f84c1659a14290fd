/**
 * A clinician's tour of pvp-cds in the official CDS Hooks sandbox, driven in headless Chromium, for the
 * README's "Try it in the CDS Hooks sandbox": Patient View, the picture a risk card links to, PAMA
 * Imaging (a lumbar spine MRI, and the same for a patient without spine disease), Rx Sign (prednisone
 * after a vertebroplasty), and the sandbox's feedback. It needs `npm run demo` running and a build of
 * the sandbox served at SANDBOX_URL (the README says how); it prints what each screen showed, saves
 * the screenshots to SCREENSHOT_DIR (default docs/), and exits 1 if a screen did not show what it should.
 */
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../tests/support/browser.ts';

const sandbox = (process.env.SANDBOX_URL ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
const service = (process.env.SERVICE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const fhir = process.env.FHIR_URL ?? 'http://127.0.0.1:8080/fhir';
const shots = process.env.SCREENSHOT_DIR ?? new URL('../docs/', import.meta.url).pathname;

const failures: string[] = [];
function check(what: string, ok: boolean): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failures.push(what);
}

function sandboxUrl(patientId: string): string {
  const query = new URLSearchParams({
    fhirServiceUrl: fhir,
    serviceDiscoveryURL: `${service}/cds-services`,
    patientId,
  });
  return `${sandbox}/?${query}`;
}

/** The summaries of the cards the sandbox shows once our service has answered. */
async function cardSummaries(page: Page, settleMs = 2500): Promise<string[]> {
  await page.waitForTimeout(settleMs);
  const cards = page.locator('[class*="decision-card"]');
  const summaries: string[] = [];
  for (const card of await cards.all()) {
    const first = (await card.innerText()).split('\n').find((line) => line.trim() !== '');
    if (first) summaries.push(first.trim());
  }
  return summaries;
}

async function openPatient(page: Page, patientId: string, screen?: string): Promise<void> {
  await page.goto(sandboxUrl(patientId));
  await page.getByText('CDS Developer Panel', { exact: true }).first().waitFor();
  if (screen) await page.getByRole('button', { name: screen, exact: true }).click();
  const panel = page.locator('[class*="context-toggle"]');
  if (await panel.count()) await panel.first().click();
}

async function feedbackAnswered(page: Page, click: () => Promise<void>): Promise<number | undefined> {
  const answer = page.waitForResponse((r) => /\/feedback$/.test(r.url()) && r.request().method() === 'POST', {
    timeout: 5000,
  });
  await click();
  return (await answer.catch(() => undefined))?.status();
}

const browser = await launchBrowser();
try {
  await mkdir(shots, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();

  await openPatient(page, 'pvp-case-report');
  const patientView = await cardSummaries(page);
  process.stdout.write(`Patient View, case-report: ${JSON.stringify(patientView, null, 1)}\n`);
  check(
    'Patient View shows the re-fracture risk card first',
    /^New or repeat vertebral fracture after augmentation: high risk/.test(patientView[0] ?? ''),
  );
  await page.screenshot({ path: `${shots}/sandbox-patient-view.png` });

  const [picture] = await Promise.all([
    context.waitForEvent('page'),
    page.getByText('Picture of this risk: what drives it').first().click(),
  ]);
  await picture.waitForLoadState();
  check(
    'its link opens the picture of the risk',
    (await picture.locator('h1').innerText()) === 'Re-fracture risk: what drives it',
  );
  await picture.close();

  const dismissed = await feedbackAnswered(page, () =>
    page.getByRole('button', { name: 'Dismiss' }).first().click(),
  );
  check(`dismissing a card sends feedback, answered ${dismissed}`, dismissed === 200);

  for (const [patientId, expectCard] of [
    ['pvp-high-rbp-risk', true],
    ['pvp-no-spine-disease', false],
  ] as const) {
    await openPatient(page, patientId, 'PAMA Imaging');
    const search = page.locator('input').first();
    await search.fill('72148');
    await page
      .getByText(/spinal canal and contents, lumbar; without contrast material$/)
      .first()
      .click();
    const pama = await cardSummaries(page);
    process.stdout.write(`PAMA Imaging, ${patientId}, CPT 72148: ${JSON.stringify(pama, null, 1)}\n`);
    const rbp = pama.find((s) => s.startsWith('Before PVP/PKP') || /residual back pain/i.test(s));
    check(
      `PAMA Imaging, lumbar MRI, ${patientId}: ${expectCard ? 'the residual back pain card' : 'no card of ours'}`,
      expectCard ? rbp !== undefined : pama.length === 0,
    );
    if (expectCard) await page.screenshot({ path: `${shots}/sandbox-pama.png` });
  }

  await openPatient(page, 'pvp-prednisone-order', 'Rx Sign');
  await page.locator('input[name="medication-input"]').fill('prednisone 20');
  await page
    .getByRole('button', { name: /prednisone 20 MG Oral Tablet/i })
    .first()
    .click();
  await page.locator('#supply-duration').click();
  await page.getByRole('option', { name: '30 days' }).click();
  await page.getByRole('button', { name: 'Sign Order' }).click();
  const rx = await cardSummaries(page);
  process.stdout.write(
    `Rx Sign, prednisone-order, prednisone 20 mg daily for 30 days: ${JSON.stringify(rx, null, 1)}\n`,
  );
  check(
    'Rx Sign, prednisone after a vertebroplasty: the glucocorticoid card',
    rx.some((s) => /glucocorticoid/i.test(s)),
  );
  await page.screenshot({ path: `${shots}/sandbox-rx-sign.png` });
} finally {
  await browser.close();
}
if (failures.length > 0) {
  process.stderr.write(`${failures.length} screen(s) did not show what they should\n`);
  process.exit(1);
}
