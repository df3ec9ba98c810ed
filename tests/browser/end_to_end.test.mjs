// End to end: a nurse proposes a plan change on the tablet (the real
// hemma-device binary) and syncs; it appears in physician-sara's queue, she
// signs it, the plan shows the change, and the patient sees it in Swedish.
import path from 'node:path';
import {browserTest, check, device, login} from './harness.mjs';

await browserTest('end_to_end', async ({server, newPage, step, shot}) => {
  const tablet = path.join(server.dir, 'tab-1.db');
  const reason = 'She forgets the evening dose';

  await step('nurse-karin proposes a new frequency on her tablet and syncs', async () => {
    await device(server, tablet, 'login', 'nurse-karin', 'tab-1', '--password', 'demo');
    await device(server, tablet, 'sync');
    const proposed = await device(server, tablet, 'propose', 'patient-01', 'care_plan_activity', 'patient-01-act-1',
      'frequency', 'three times daily', '--reason', reason);
    check(/proposed/.test(proposed), `hemma-device to confirm the proposal: "${proposed}"`);
    await device(server, tablet, 'sync');
  });

  const physician = await newPage();
  await step('the proposal is in physician-sara\'s queue; she signs it', async () => {
    await login(physician, server, 'physician-sara');
    await physician.getByRole('heading', {name: 'My patients'}).waitFor();
    await physician.getByRole('link', {name: 'Plan changes to sign'}).click();
    const card = physician.locator('li.proposal', {hasText: reason});
    await card.waitFor();
    const text = await card.innerText();
    check(text.includes('Activity “Medication administration”, frequency') && text.includes('“twice daily”') &&
      text.includes('“three times daily”') && text.includes('Proposed by Karin Holm'),
      `the card to name the activity, the old and new value and the nurse: "${text}"`);
    await shot(physician, 'end-to-end-queue');
    await card.getByRole('button', {name: 'Sign'}).click();
    await physician.locator('#status', {hasText: 'Signed'}).waitFor();
    await card.waitFor({state: 'detached'});
  });

  await step('the plan shows the change', async () => {
    await physician.getByRole('link', {name: 'My patients'}).click();
    await physician.getByRole('link', {name: 'Astrid Nyström'}).click();
    await physician.locator('tr[data-activity="patient-01-act-1"] .frequency', {hasText: 'three times daily'}).waitFor();
    await shot(physician, 'end-to-end-plan');
  });

  await step('patient-01 sees the change in Swedish', async () => {
    const patient = await newPage({locale: 'sv-SE'});
    await login(patient, server, 'patient-01');
    await patient.getByRole('heading', {name: 'Min vårdplan'}).waitFor();
    const row = patient.locator('tr[data-activity="patient-01-act-1"]');
    await row.locator('.frequency', {hasText: 'three times daily'}).waitFor();
    check((await patient.locator('table.activities thead').innerText()).includes('Hur ofta'), 'the column "Hur ofta"');
    await shot(patient, 'end-to-end-patient-sv');
  });
});
