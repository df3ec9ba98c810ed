// Coordinator across organisations: the done/remaining board, the visit
// schedule with reassignment, and the access log check.
import {api, browserTest, check, login, token} from './harness.mjs';

await browserTest('coordination', async ({server, newPage, step, shot}) => {
  const page = await newPage();
  await step('coordinator-lena logs in', async () => {
    await login(page, server, 'coordinator-lena');
    await page.getByRole('heading', {name: 'Patients', level: 1}).waitFor();
  });

  await step('the board shows done and remaining per organisation', async () => {
    await page.getByRole('link', {name: 'Board'}).click();
    await page.getByRole('heading', {name: 'Done and remaining, across organisations'}).waitFor();
    const column = page.locator('section.column').first();
    await column.waitFor();
    check(/\d+ done · \d+ remaining/.test(await column.locator('.counts').innerText()), 'counts of done and remaining');
    await shot(page, 'coordinator-board');
  });

  await step('the schedule lists visits across organisations; she reassigns one', async () => {
    await page.getByRole('link', {name: 'Visit schedule'}).click();
    await page.getByRole('heading', {name: 'Visit schedule'}).waitFor();
    // From yesterday (UTC), so today's demo visits are in the period whatever
    // the hour and time zone.
    const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
    await page.getByLabel('From').fill(day(-1));
    await page.getByLabel('To (including)').fill(day(6));
    await page.getByRole('button', {name: 'Show'}).click();
    await page.locator('#status', {hasText: `Showing the visits from ${day(-1)} to ${day(6)}.`}).waitFor();
    const row = page.locator('tr[data-visit="patient-01-visit-1"]');
    await row.waitFor();
    await row.getByRole('combobox').selectOption('nurse-olle');
    await row.getByRole('button', {name: 'Assign'}).click();
    await page.locator('#status', {hasText: 'The visit was reassigned.'}).waitFor();
    const visits = await api(server, 'GET', '/api/v1/patients/patient-01/visits',
      {token: await token(server, 'coordinator-lena')});
    check(visits.visits.find((v) => v.id === 'patient-01-visit-1').nurseId === 'nurse-olle', 'the visit to be Olle\'s now');
    await shot(page, 'coordinator-schedule');
  });

  await step('she checks a random sample of the access log and records the check', async () => {
    await page.getByRole('link', {name: 'Access log check'}).click();
    await page.getByRole('heading', {name: 'Access log check'}).waitFor();
    await page.getByLabel('How many entries').fill('5');
    await page.getByRole('button', {name: 'Draw a random sample'}).click();
    await page.locator('table.sample tbody tr').first().waitFor();
    const rows = await page.locator('table.sample tbody tr').count();
    check(rows >= 1 && rows <= 5, `1 to 5 sampled entries, got ${rows}`);
    await shot(page, 'coordinator-access-log-sample');
    await page.getByLabel('Something needs a closer look').check();
    await page.getByLabel('Note').fill('Ask about the evening read of patient-07');
    await page.getByRole('button', {name: 'Record the check'}).click();
    await page.locator('#status', {hasText: 'The check was recorded.'}).waitFor();
    await page.locator('li.review', {hasText: 'Ask about the evening read of patient-07'}).waitFor();
    const reviews = await api(server, 'GET', '/api/v1/audit/reviews', {token: await token(server, 'coordinator-lena')});
    const review = reviews.reviews.find((r) => r.note === 'Ask about the evening read of patient-07');
    check(review && review.finding === 'concern' && review.entrySeqs.length === rows,
      'the stored review with its finding and the sampled entries');
    await shot(page, 'coordinator-access-log-check');
  });
});
