// The patient's own view: plan and visits in Swedish, Finnish after a
// switch that survives a reload, the access log, and consent.
import {api, browserTest, check, login, token} from './harness.mjs';

await browserTest('patient', async ({server, newPage, step, shot}) => {
  const page = await newPage();
  // A read by the physician, so the access log has a region entry.
  await api(server, 'GET', '/api/v1/patients/patient-01', {token: await token(server, 'physician-sara')});

  await step('patient-01 sees her plan and visits in Swedish', async () => {
    await login(page, server, 'patient-01');
    await page.getByRole('heading', {name: 'Min vård', level: 1}).waitFor();
    check(await page.evaluate(() => document.documentElement.lang) === 'sv', 'the page language to be sv');
    await page.getByRole('heading', {name: 'Min vårdplan'}).waitFor();
    await page.locator('tr[data-activity="patient-01-act-1"] .frequency', {hasText: 'twice daily'}).waitFor();
    await page.getByRole('heading', {name: 'Kommande besök'}).waitFor();
    const visits = await page.locator('ul.visits').innerText();
    check(/(Karin Holm|Olle Berg) kommer/.test(visits), `who is coming, in Swedish: "${visits}"`);
    const missing = await page.evaluate(async () => (await import('/assets/i18n.js')).missingTranslations());
    check(missing.length === 0, `every patient text in fi, sv and en; missing: ${missing.join(', ')}`);
    await shot(page, 'patient-sv');
  });

  await step('she switches to Finnish; a reload keeps it, and so does the server', async () => {
    await page.getByLabel('Språk').selectOption('fi');
    await page.getByRole('heading', {name: 'Hoitoni', level: 1}).waitFor();
    await page.locator('#status', {hasText: 'Kieli vaihdettiin.'}).waitFor();
    await page.reload();
    await page.getByRole('heading', {name: 'Hoitosuunnitelmani'}).waitFor();
    check(await page.evaluate(() => document.documentElement.lang) === 'fi', 'the page language to be fi after a reload');
    const record = await api(server, 'GET', '/api/v1/patients/patient-01', {token: await token(server, 'patient-01')});
    check(record.patient.preferredLanguage === 'fi', 'the server to have fi as her language');
    await page.getByRole('heading', {name: 'Tulevat käynnit'}).waitFor();
    await shot(page, 'patient-fi');
  });

  await step('she sees which units read her record', async () => {
    const log = page.locator('section', {has: page.getByRole('heading', {name: 'Kuka on lukenut tietojani'})});
    await log.locator('table.access-log', {hasText: 'Hemsjukvårdsläkare'}).waitFor();
    check((await log.innerText()).includes('Region Söder'), 'the region named as the reader\'s organisation');
  });

  await step('she withdraws her consent for the region and gives it again', async () => {
    await page.getByRole('button', {name: 'Peru suostumus: Region Söder'}).click();
    await page.locator('#status', {hasText: 'Suostumuksesi peruttiin.'}).waitFor();
    const consents = async () => (await api(server, 'GET', '/api/v1/patients/patient-01/consents',
      {token: await token(server, 'patient-01')})).consents.filter((c) => c.organisationId === 'org-soder');
    check((await consents()).every((c) => c.withdrawnAt), 'no active consent for org-soder after withdrawing');
    await page.getByLabel('Organisaatio').selectOption('org-soder');
    await page.getByRole('button', {name: 'Anna suostumus'}).click();
    await page.locator('#status', {hasText: 'Suostumuksesi kirjattiin.'}).waitFor();
    check((await consents()).some((c) => !c.withdrawnAt), 'an active consent for org-soder again');
    await shot(page, 'patient-consent');
  });
});
