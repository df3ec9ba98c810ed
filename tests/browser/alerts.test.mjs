// Physician's alerts: a medium NEWS2 and an urgent message from a tablet
// appear without a reload; the vital signs show in the timeline; she reads
// the message and replies.
import {browserTest, check, login, mediumVitalSigns, message, pushOperations} from './harness.mjs';

await browserTest('alerts', async ({server, newPage, step, shot}) => {
  const page = await newPage();
  await step('physician-sara logs in', async () => {
    await login(page, server, 'physician-sara');
    await page.getByRole('heading', {name: 'My patients'}).waitFor();
    await page.getByRole('link', {name: 'Astrid Nyström'}).waitFor();
    // The banner has caught up with the alerts from before the login.
    await page.locator('#alerts[data-caught-up="true"]').waitFor({state: 'attached'});
  });

  await step('a medium NEWS2 pushed from a tablet raises an alert without a reload', async () => {
    await page.evaluate(() => { window.notReloaded = true; });
    await pushOperations(server, 'nurse-karin', 'tablet-karin', [mediumVitalSigns('vs-browser-1', 'patient-03', 'nurse-karin')]);
    const alert = page.locator('#alerts .alert[data-patient="patient-03"]');
    await alert.waitFor();
    const text = await alert.innerText();
    check(/NEWS2 6/.test(text) && /medium/.test(text), `the alert to say NEWS2 6, medium risk; it says "${text}"`);
    check(await page.evaluate(() => window.notReloaded === true), 'the page not to have reloaded');
    check(await page.locator('#alerts').getAttribute('aria-live') === 'assertive', 'the alert region to be aria-live');
    // The list on screen follows: the latest score and the trend show the new reading.
    await page.locator('tr[data-patient="patient-03"] .badge[data-risk="NEWS2_MEDIUM"]').waitFor();
    const trend = await page.locator('tr[data-patient="patient-03"] svg.sparkline').getAttribute('aria-label');
    check(/6$/.test(trend), `the trend to end with 6: "${trend}"`);
    await shot(page, 'physician-patients-alert');
  });

  await step('the vital signs show in the timeline with their NEWS2', async () => {
    await page.getByRole('link', {name: 'Cecilia Forsberg'}).first().click();
    await page.getByRole('heading', {name: 'Cecilia Forsberg', level: 1}).waitFor();
    const vitals = page.locator('ol.timeline li[data-kind="vitalSigns"]', {hasText: 'respiration 22/min'});
    await vitals.waitFor();
    check(/NEWS2 6/.test(await vitals.innerText()), 'the vital signs entry to show NEWS2 6');
    check((await vitals.locator('.author').innerText()) === 'Karin Holm', 'the vital signs to be labelled Karin Holm');
    await shot(page, 'physician-timeline-vital-signs');
  });

  await step('an urgent message raises an alert; she reads it and replies', async () => {
    await pushOperations(server, 'nurse-karin', 'tablet-karin', [message('msg-browser-1', 'patient-01', 'nurse-karin',
      'She is short of breath, please call', {urgent: true})]);
    const alert = page.locator('#alerts .alert[data-kind="URGENT_MESSAGE"][data-patient="patient-01"]');
    await alert.waitFor();
    await alert.getByRole('link').click();
    const card = page.locator('li.message[data-message="msg-browser-1"]');
    await card.waitFor();
    await card.getByText('Reply', {exact: true}).click();
    await card.getByLabel('Your reply').fill('I will call her within the hour');
    await card.getByRole('button', {name: 'Send reply'}).click();
    await page.locator('#status', {hasText: 'reply was sent'}).waitFor();
    await page.locator('li.message', {hasText: 'I will call her within the hour'}).waitFor();
    await shot(page, 'physician-messages');
  });
});
