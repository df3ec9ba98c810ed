// Physician: my patients with NEWS2 trend charts, the timeline's labels,
// signing and rejecting proposals, and resolving a sync conflict.
import {api, browserTest, check, login, note, pushOperations, token} from './harness.mjs';

await browserTest('physician', async ({server, newPage, step, shot}) => {
  const page = await newPage();
  const nurse = await token(server, 'nurse-karin');

  await step('physician-sara logs in and sees her patients with NEWS2', async () => {
    await login(page, server, 'physician-sara');
    await page.getByRole('heading', {name: 'My patients'}).waitFor();
    await page.getByRole('link', {name: 'Astrid Nyström'}).waitFor();
    check(await page.locator('tr[data-patient="patient-02"]').count() === 0, 'patient-02 (no consent) not to be listed');
    check(await page.locator('tr[data-patient="patient-03"] svg.sparkline').count() === 1, 'a trend chart for patient-03');
  });

  await step('the timeline labels each entry with organisation, author and time', async () => {
    await pushOperations(server, 'nurse-karin', 'tablet-karin', [
      note('note-browser-1', 'patient-01', 'nurse-karin', 'Evening visit: she slept well.')]);
    await page.getByRole('link', {name: 'Astrid Nyström'}).first().click();
    await page.getByRole('heading', {name: 'Astrid Nyström', level: 1}).waitFor();
    const entry = page.locator('ol.timeline li', {hasText: 'Evening visit: she slept well.'});
    await entry.waitFor();
    check(await entry.locator('.org').innerText() === 'Norrby kommun', 'the note to be labelled Norrby kommun');
    check(await entry.locator('.author').innerText() === 'Karin Holm', 'the note to be labelled Karin Holm');
    check((await entry.locator('time').getAttribute('datetime')) !== '', 'the note to carry its time');
    await page.getByLabel('Show').selectOption('note');
    const kinds = await page.locator('ol.timeline li:visible').evaluateAll((items) => items.map((i) => i.dataset.kind));
    check(kinds.length >= 1 && kinds.every((k) => k === 'note'), `only notes after choosing Notes: ${kinds}`);
    await shot(page, 'physician-timeline');
  });

  await step('she signs one proposal and rejects another with a reason', async () => {
    const base = '/api/v1/patients/patient-01/proposals';
    const sign = await api(server, 'POST', base, {token: nurse, body: {entityType: 'care_plan_activity',
      entityId: 'patient-01-act-1', field: 'frequency', proposedValue: 'four times daily', reason: 'Needs more support'}});
    const reject = await api(server, 'POST', base, {token: nurse, body: {entityType: 'care_plan_goal',
      entityId: 'patient-01-goal-1', field: 'text', proposedValue: 'Move to a care home', reason: 'Family asks'}});
    await page.getByRole('link', {name: 'Plan changes to sign'}).click();
    await page.getByRole('heading', {name: 'Plan changes to sign'}).waitFor();
    const signCard = page.locator(`li[data-proposal="${sign.id}"]`);
    await signCard.getByRole('button', {name: 'Sign'}).click();
    await page.locator('#status', {hasText: 'Signed'}).waitFor();
    await signCard.waitFor({state: 'detached'});
    const rejectCard = page.locator(`li[data-proposal="${reject.id}"]`);
    await rejectCard.getByLabel('Reason for rejecting').fill('Discuss at the next home visit first');
    await rejectCard.getByRole('button', {name: 'Reject'}).click();
    await page.locator('#status', {hasText: 'rejected'}).waitFor();
    const all = await api(server, 'GET', base, {token: nurse});
    const byId = new Map(all.proposals.map((p) => [p.id, p]));
    check(byId.get(sign.id).status === 'SIGNED', 'the first proposal to be SIGNED');
    check(byId.get(reject.id).status === 'REJECTED' &&
      byId.get(reject.id).decisionReason === 'Discuss at the next home visit first', 'the second to be REJECTED with the reason');
    await page.getByRole('link', {name: 'My patients'}).click();
    await page.getByRole('link', {name: 'Astrid Nyström'}).click();
    await page.locator('tr[data-activity="patient-01-act-1"] .frequency', {hasText: 'four times daily'}).waitFor();
    await shot(page, 'physician-record-after-sign');
  });

  await step('she reviews a sync conflict and resolves it', async () => {
    // Two tablets of the plan's editor (a nurse's tablet may not write a
    // dose), each changing it without having seen the other's change.
    await pushOperations(server, 'coordinator-lena', 'tablet-lena', [{patientId: 'patient-01', entityType: 'medication',
      entityId: 'med-metoprolol', write: {field: 'dose', value: '25 mg', baseHlc: '0'}}]);
    await pushOperations(server, 'coordinator-lena', 'tablet-office', [{patientId: 'patient-01', entityType: 'medication',
      entityId: 'med-metoprolol', write: {field: 'dose', value: '100 mg', baseHlc: '0'}}]);
    await page.getByRole('link', {name: 'Conflicts'}).click();
    await page.getByRole('heading', {name: 'Sync conflicts to review'}).waitFor();
    const card = page.locator('li.conflict', {hasText: 'med-metoprolol'});
    await card.waitFor();
    await shot(page, 'physician-conflicts');
    await card.getByRole('textbox', {name: 'Other value'}).fill('50 mg');
    await card.getByRole('button', {name: 'Resolve'}).click();
    await page.locator('#status', {hasText: 'resolved'}).waitFor();
    await page.getByText('No open conflicts.').waitFor();
  });

});
