// Coordinator, in one patient's page: the care plan editor, the care team,
// scheduling a visit, consent and blocks.
import {api, browserTest, check, login, token} from './harness.mjs';

await browserTest('coordinator', async ({server, newPage, step, shot}) => {
  const page = await newPage();
  const record = async () => api(server, 'GET', '/api/v1/patients/patient-01', {token: await token(server, 'coordinator-lena')});

  await step('coordinator-lena opens a patient', async () => {
    await login(page, server, 'coordinator-lena');
    await page.getByRole('heading', {name: 'Patients', level: 1}).waitFor();
    await page.getByRole('link', {name: 'Astrid Nyström'}).click();
    await page.getByRole('heading', {name: 'Astrid Nyström', level: 1}).waitFor();
  });

  await step('she edits the care plan; the change is saved and shown after a reload', async () => {
    const activity = page.locator('fieldset[data-activity="patient-01-act-1"]');
    await activity.getByLabel('How often').fill('morning, noon and evening');
    await page.getByLabel('New goal').fill('Walk to the mailbox daily');
    const fresh = page.locator('fieldset[data-activity="new"]');
    await fresh.getByLabel('Activity').fill('Evening walk with support');
    await fresh.getByLabel('How often').fill('daily');
    await fresh.getByLabel('Responsible organisation').selectOption('org-norrby');
    await fresh.getByLabel('Responsible role').selectOption('NURSE');
    await page.getByRole('button', {name: 'Save the care plan'}).click();
    await page.locator('#status', {hasText: 'The care plan was saved.'}).waitFor();
    await page.reload();
    await page.getByRole('heading', {name: 'Astrid Nyström', level: 1}).waitFor();
    check(await page.locator('fieldset[data-activity="patient-01-act-1"]').getByLabel('How often').inputValue() ===
      'morning, noon and evening', 'the new frequency in the editor after a reload');
    const plan = (await record()).plan;
    check(plan.goals.some((g) => g.text === 'Walk to the mailbox daily'), 'the new goal in the stored plan');
    const added = plan.activities.find((a) => a.text === 'Evening walk with support');
    check(added && added.frequency === 'daily' && added.responsibleOrganisationId === 'org-norrby' &&
      added.responsibleRole === 'NURSE', 'the new activity with its organisation and role');
    await shot(page, 'coordinator-plan-editor');
  });

  await step('she adds a nurse to the care team and removes her again', async () => {
    await page.getByLabel('Practitioner (user id)').fill('nurse-maria');
    await page.getByRole('button', {name: 'Add to the care team'}).click();
    await page.locator('#status', {hasText: 'Added to the care team.'}).waitFor();
    await page.locator('li[data-member="nurse-maria"]').waitFor();
    await page.getByRole('button', {name: 'Remove Maria Virtanen'}).click();
    await page.locator('#status', {hasText: 'left the care team'}).waitFor();
    check(await page.locator('li[data-member="nurse-maria"]').count() === 0, 'nurse-maria to be gone from the team');
  });

  await step('she schedules a visit for a nurse of the team and cancels it', async () => {
    const before = (await record()).visits.length;
    const section = page.locator('section', {has: page.getByRole('heading', {name: 'Visits'})});
    await section.getByLabel('Nurse', {exact: true}).selectOption('nurse-olle');
    await section.getByLabel('Starts').fill('2030-01-15T10:30');
    await section.getByRole('button', {name: 'Schedule the visit'}).click();
    await page.locator('#status', {hasText: 'The visit was scheduled.'}).waitFor();
    const visits = (await record()).visits;
    check(visits.length === before + 1, 'one more visit');
    const added = visits.find((v) => v.nurseId === 'nurse-olle' && v.scheduledStart.startsWith('2030-01-15T09:30'));
    check(added, 'a visit for Olle at 10:30 Stockholm time');
    await page.locator(`tr[data-visit="${added.id}"]`).getByRole('button', {name: 'Cancel the visit'}).click();
    await page.locator('#status', {hasText: 'The visit was cancelled.'}).waitFor();
    check((await record()).visits.find((v) => v.id === added.id).status === 'CANCELLED', 'the new visit to be cancelled');
  });

  await step('she blocks a unit and lifts the block', async () => {
    await page.getByLabel('Unit (id)').fill('unit-norrby-south');
    await page.getByRole('button', {name: 'Block the unit'}).click();
    await page.locator('#status', {hasText: 'The unit is blocked.'}).waitFor();
    const block = page.locator('li[data-unit="unit-norrby-south"]');
    await block.waitFor();
    await block.getByRole('button', {name: /Lift the block/}).click();
    await page.locator('#status', {hasText: 'The block was lifted.'}).waitFor();
    await block.getByText('lifted').waitFor();
  });

  await step('she withdraws the consent for the region and records it again', async () => {
    await page.getByRole('button', {name: 'Withdraw consent for Region Söder'}).click();
    await page.locator('#status', {hasText: 'The consent was withdrawn.'}).waitFor();
    const consentSection = page.locator('section', {has: page.getByRole('heading', {name: 'Consent'})});
    await consentSection.getByLabel('Organisation').selectOption('org-soder');
    await consentSection.getByRole('button', {name: 'Record consent'}).click();
    await page.locator('#status', {hasText: 'The consent was recorded.'}).waitFor();
    const consents = await api(server, 'GET', '/api/v1/patients/patient-01/consents',
      {token: await token(server, 'coordinator-lena')});
    const soder = consents.consents.filter((c) => c.organisationId === 'org-soder');
    check(soder.length === 2 && soder.filter((c) => !c.withdrawnAt).length === 1,
      'one withdrawn and one active consent for org-soder');
    await shot(page, 'coordinator-consent-blocks');
  });
});
