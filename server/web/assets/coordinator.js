// Coordinators: the plan editor, care team, visits, consent and blocks of a
// patient; the board and the schedule across organisations; the access log
// check.
import {del, enc, get, post, put} from './api.js';
import {empty, field, h, isoDate, knownOrganisations, learnOrganisation, organisationName, section, select, timeTag,
  uid} from './dom.js';
import {failed, kRoles, medicationList, optional, responsibility, roleName, visitStatus} from './record.js';
import {act, onSubmit} from './ui.js';

function organisationOptions(...extra) {
  const ids = new Set([...knownOrganisations(), ...extra.filter(Boolean)]);
  return [...ids].sort().map((id) => [id, organisationName(id)]);
}

export function planEditor({base, record}) {
  const plan = record.plan || {};
  const members = (record.careTeam && record.careTeam.members) || [];
  const organisations = organisationOptions(record.homeOrganisationId, plan.overallResponsibleOrganisationId,
    ...members.map((m) => m.organisationId), ...(plan.activities || []).map((a) => a.responsibleOrganisationId));
  const overall = select(organisations, plan.overallResponsibleOrganisationId || record.homeOrganisationId,
    {name: 'overall'});
  const status = select([['DRAFT', 'Draft'], ['ACTIVE', 'Active'], ['ENDED', 'Ended']], plan.status || 'ACTIVE',
    {name: 'status'});

  const goalInputs = (plan.goals || []).map((g, i) => ({id: g.id,
    input: h('input', {name: `goal-${g.id}`, value: g.text || '', required: true, 'aria-label': `Goal ${i + 1}`})}));
  const newGoal = h('input', {name: 'new-goal'});

  const activityRow = (a, legend) => {
    const row = {
      id: a.id,
      text: h('input', {name: 'text', value: a.text || '', required: Boolean(a.id)}),
      frequency: h('input', {name: 'frequency', value: a.frequency || ''}),
      organisation: select([['', '(choose)'], ...organisations], a.responsibleOrganisationId || '', {name: 'organisation'}),
      role: select([['', '(choose)'], ...kRoles], a.responsibleRole || '', {name: 'role'}),
    };
    row.element = h('fieldset', {class: 'activity', dataset: {activity: a.id || 'new'}}, h('legend', {}, legend),
      field('Activity', row.text), field('How often', row.frequency),
      field('Responsible organisation', row.organisation), field('Responsible role', row.role));
    return row;
  };
  const rows = (plan.activities || []).map((a) => activityRow(a, a.text || a.id));
  const newRow = activityRow({}, 'New activity (leave empty to add none)');

  const scale2 = h('input', {type: 'checkbox', name: 'spo2-scale-2', checked: Boolean(plan.spo2Scale2)});
  const form = onSubmit(h('form', {class: 'plan-editor'},
    h('div', {class: 'row'}, field('Overall responsibility', overall), field('Status', status)),
    h('label', {class: 'choice'}, scale2, ' NEWS2 scores SpO₂ on scale 2 (target 88–92 %, hypercapnic respiratory failure)'),
    h('fieldset', {}, h('legend', {}, 'Goals'),
      goalInputs.map((g, i) => field(`Goal ${i + 1}`, g.input)), field('New goal', newGoal)),
    rows.map((r) => r.element), newRow.element,
    h('button', {type: 'submit'}, 'Save the care plan')),
  () => {
    const goals = goalInputs.map((g) => ({id: g.id, text: g.input.value.trim()}));
    if (newGoal.value.trim()) goals.push({text: newGoal.value.trim()});
    const activity = (r) => Object.fromEntries(Object.entries({id: r.id, text: r.text.value.trim(),
      frequency: r.frequency.value.trim(), responsibleOrganisationId: r.organisation.value,
      responsibleRole: r.role.value}).filter(([, v]) => v));
    const activities = rows.map(activity);
    if (newRow.text.value.trim()) activities.push(activity(newRow));
    const body = {overallResponsibleOrganisationId: overall.value, status: status.value, goals, activities};
    // Sent only when changed: an unset value leaves the plan's as it is.
    if (scale2.checked !== Boolean(plan.spo2Scale2)) body.spo2Scale2 = scale2.checked;
    return put(`${base}/plan`, body);
  }, 'The care plan was saved.');
  return section('Care plan', form, medicationList(plan, {heading: 'Medications (changed on the tablet by proposal)'}));
}

export async function coordinatorSections(context) {
  const {base} = context;
  const [consents, blocks, accessLog] = await Promise.all([
    optional(get(`${base}/consents`)), optional(get(`${base}/blocks`)), optional(get(`${base}/access-log`))]);
  const units = new Map();
  for (const e of (accessLog.value && accessLog.value.entries) || []) {
    learnOrganisation(e.organisationId, e.organisationName);
    units.set(e.unitId, e.unitName);
  }
  return [teamEditor(context), visitsEditor(context), consentSection(context, consents),
    blockSection(context, blocks, units), accessLogSection(accessLog)];
}

function teamEditor({base, record}) {
  const members = (record.careTeam && record.careTeam.members) || [];
  const practitioner = h('input', {name: 'practitioner', required: true, autocomplete: 'off'});
  const level = select([['MEMBER', 'Member'], ['RESPONSIBLE_NURSE', 'Responsible nurse'],
    ['RESPONSIBLE_PHYSICIAN', 'Responsible physician']], 'MEMBER', {name: 'responsibility'});
  const add = onSubmit(h('form', {class: 'inline'},
    field('Practitioner (user id)', practitioner, 'For example nurse-maria'), field('Responsibility', level),
    h('button', {type: 'submit'}, 'Add to the care team')),
  () => post(`${base}/care-team`, {practitionerId: practitioner.value.trim(), responsibility: level.value}),
  'Added to the care team.');
  return section('Care team',
    members.length ? h('ul', {class: 'team'}, members.map((m) => {
      const remove = h('button', {type: 'button', class: 'secondary'}, `Remove ${m.name || m.practitionerId}`);
      remove.addEventListener('click', () => act(remove,
        () => del(`${base}/care-team/${enc(m.practitionerId)}`), `${m.name || m.practitionerId} left the care team.`));
      return h('li', {dataset: {member: m.practitionerId}},
        `${m.name || m.practitionerId} — ${roleName(m.role).toLowerCase()}, ${organisationName(m.organisationId)} ` +
        `(${responsibility(m.responsibility)}) `, remove);
    })) : empty('Nobody is in the care team.'),
    add);
}

export function nurseSelect(nurses, current, attrs) {
  const options = nurses.map(([id, name]) => [id, name]);
  if (current && !options.some(([id]) => id === current)) options.unshift([current, current]);
  return select(options, current, attrs);
}

function visitsEditor({base, record}) {
  const plan = record.plan || {};
  const activities = new Map((plan.activities || []).map((a) => [a.id, a.text]));
  const nurses = ((record.careTeam && record.careTeam.members) || []).filter((m) => m.role === 'NURSE')
    .map((m) => [m.practitionerId, m.name || m.practitionerId]);
  const rows = (record.visits || []).map((v) => {
    const nurse = nurseSelect(nurses, v.nurseId, {'aria-label': `Nurse for the visit ${v.scheduledStart}`});
    const assign = h('button', {type: 'button'}, 'Assign');
    assign.addEventListener('click', () => act(assign,
      () => put(`${base}/visits/${enc(v.id)}`, {nurseId: nurse.value}), 'The visit was reassigned.'));
    let cancel = null;
    if (v.status === 'PLANNED') {
      cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel the visit');
      cancel.addEventListener('click', () => act(cancel,
        () => put(`${base}/visits/${enc(v.id)}`, {status: 'CANCELLED'}), 'The visit was cancelled.'));
    }
    return h('tr', {dataset: {visit: v.id}}, h('td', {}, timeTag(v.scheduledStart)),
      h('td', {}, activities.get(v.activityId) || v.activityId || '—'), h('td', {}, visitStatus(v.status)),
      h('td', {class: 'assign'}, nurse, ' ', assign, ' ', cancel));
  });
  const nurse = select(nurses, nurses.length ? nurses[0][0] : '', {name: 'nurse', required: true});
  const start = h('input', {type: 'datetime-local', name: 'start', required: true});
  const activity = select([['', '(no particular activity)'], ...activities.entries()], '', {name: 'activity'});
  const schedule = onSubmit(h('form', {class: 'inline'},
    field('Nurse', nurse), field('Starts', start), field('Activity', activity),
    h('button', {type: 'submit'}, 'Schedule the visit')),
  () => post(`${base}/visits`, Object.fromEntries(Object.entries({nurseId: nurse.value,
    scheduledStart: new Date(start.value).toISOString(), activityId: activity.value}).filter(([, v]) => v))),
  'The visit was scheduled.');
  return section('Visits',
    rows.length ? h('table', {class: 'visits'},
      h('thead', {}, h('tr', {}, ['When', 'Activity', 'Status', 'Nurse'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows)) : empty('No visits are scheduled.'),
    nurses.length ? schedule : empty('Add a nurse to the care team to schedule visits.'));
}

function consentSection({base, record}, consents) {
  if (consents.error) return section('Consent', failed(consents.error));
  const list = consents.value.consents || [];
  const organisation = select(organisationOptions(record.homeOrganisationId, ...list.map((c) => c.organisationId)), '',
    {name: 'organisation', required: true});
  const until = h('input', {type: 'date', name: 'until'});
  const give = onSubmit(h('form', {class: 'inline'},
    field('Organisation', organisation), field('Valid until (optional)', until),
    h('button', {type: 'submit'}, 'Record consent')),
  () => post(`${base}/consents`, Object.fromEntries(Object.entries({organisationId: organisation.value,
    validUntil: until.value ? `${until.value}T23:59:59Z` : ''}).filter(([, v]) => v))),
  'The consent was recorded.');
  return section('Consent',
    h('p', {}, 'The patient\'s consent lets another organisation than the home organisation read the record.'),
    list.length ? h('ul', {}, list.map((c) => consentItem(c))) : empty('No consent recorded.'), give);
}

function consentItem(c) {
  const active = !c.withdrawnAt && (!c.validUntil || new Date(c.validUntil) > new Date());
  const withdraw = h('button', {type: 'button', class: 'secondary'}, `Withdraw consent for ${organisationName(c.organisationId)}`);
  withdraw.addEventListener('click', () => act(withdraw, () => post(`/api/v1/consents/${enc(c.id)}/withdraw`),
    'The consent was withdrawn.'));
  return h('li', {dataset: {consent: c.id, organisation: c.organisationId}},
    `${organisationName(c.organisationId)}: from `, timeTag(c.validFrom),
    c.validUntil ? [' until ', timeTag(c.validUntil)] : ' until withdrawn',
    c.withdrawnAt ? [' · withdrawn ', timeTag(c.withdrawnAt)] : '', ' ', active ? withdraw : null);
}

function blockSection({base}, blocks, units) {
  if (blocks.error) return section('Blocked units', failed(blocks.error));
  const list = blocks.value.blocks || [];
  const listId = uid('units');
  const unit = h('input', {name: 'unit', required: true, list: listId, autocomplete: 'off'});
  const add = onSubmit(h('form', {class: 'inline'},
    field('Unit (id)', unit, 'For example unit-norrby-south'),
    h('datalist', {id: listId}, [...units].map(([id, name]) => h('option', {value: id}, name))),
    h('button', {type: 'submit'}, 'Block the unit')),
  () => post(`${base}/blocks`, {unitId: unit.value.trim()}), 'The unit is blocked.');
  return section('Blocked units',
    h('p', {}, 'A blocked unit\'s entries are not shown outside that unit.'),
    list.length ? h('ul', {}, list.map((b) => {
      const lift = h('button', {type: 'button', class: 'secondary'}, `Lift the block on ${units.get(b.unitId) || b.unitId}`);
      lift.addEventListener('click', () => act(lift, () => post(`/api/v1/blocks/${enc(b.id)}/lift`), 'The block was lifted.'));
      return h('li', {dataset: {block: b.id, unit: b.unitId}}, `${units.get(b.unitId) || b.unitId}: since `, timeTag(b.createdAt),
        b.liftedAt ? [' · lifted ', timeTag(b.liftedAt)] : [' ', lift]);
    })) : empty('No unit is blocked.'),
    add);
}

function accessLogSection(accessLog) {
  if (accessLog.error) return section('Who read the record', failed(accessLog.error));
  const entries = accessLog.value.entries || [];
  return section('Who read the record', entries.length ? h('table', {class: 'access-log'},
    h('thead', {}, h('tr', {}, ['When', 'Unit', 'Organisation', ''].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, entries.slice(0, 50).map((e) => h('tr', {}, h('td', {}, timeTag(e.at)), h('td', {}, e.unitName || e.unitId),
      h('td', {}, e.organisationName || e.organisationId), h('td', {}, e.emergency ? 'emergency access' : '')))))
    : empty('Nobody has read the record yet.'));
}

function scheduledVisitRow(sv, {assign} = {}) {
  const v = sv.visit || {};
  learnOrganisation(sv.organisationId, sv.organisationName);
  const cells = [
    h('td', {}, timeTag(v.scheduledStart)),
    h('td', {}, h('a', {href: `#/patients/${enc(v.patientId)}`}, sv.patientName || v.patientId)),
    h('td', {}, sv.activityText || '—'),
    h('td', {}, sv.organisationName || sv.organisationId),
    h('td', {}, visitStatus(v.status), sv.tasksTotal ? ` · ${sv.tasksDone || 0} of ${sv.tasksTotal} tasks` : ''),
  ];
  if (assign) cells.push(h('td', {class: 'assign'}, assign(v)));
  else cells.push(h('td', {}, v.nurseName || v.nurseId || '—'));
  return h('tr', {dataset: {visit: v.id}}, cells);
}

const visitHeader = (last) => h('thead', {}, h('tr', {},
  ['When', 'Patient', 'Activity', 'Organisation', 'Status', last].map((t) => h('th', {scope: 'col'}, t))));

// The date shown on the board and the period of the schedule survive a
// refresh after a change.
let boardDate = null;
let schedulePeriod = null;

export async function boardPage() {
  boardDate = boardDate || isoDate();
  const board = await get(`/api/v1/board?date=${enc(boardDate)}`);
  const date = h('input', {type: 'date', name: 'date', value: boardDate, required: true});
  const choose = h('form', {class: 'inline'}, field('Day', date), h('button', {type: 'submit'}, 'Show'));
  choose.addEventListener('submit', (event) => {
    event.preventDefault();
    boardDate = date.value;
    act(null, async () => {}, `Showing ${boardDate}.`);
  });
  const columns = board.organisations || [];
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'Done and remaining, across organisations'),
    choose,
    columns.length ? h('div', {class: 'board'}, columns.map((c) => {
      learnOrganisation(c.organisationId, c.organisationName);
      return h('section', {class: 'card column', dataset: {organisation: c.organisationId}, 'aria-label': c.organisationName},
        h('h2', {}, c.organisationName || c.organisationId),
        h('p', {class: 'counts'}, h('strong', {class: 'done'}, `${c.done || 0} done`), ' · ',
          h('strong', {class: 'remaining'}, `${c.remaining || 0} remaining`)),
        (c.visits || []).length ? h('table', {}, visitHeader('Nurse'), h('tbody', {}, c.visits.map((sv) => scheduledVisitRow(sv))))
          : empty('No visits this day.'));
    })) : empty(`No visits on ${boardDate}.`));
}

export async function schedulePage() {
  schedulePeriod = schedulePeriod || {from: isoDate(), to: isoDate(6)};
  const fromTime = new Date(`${schedulePeriod.from}T00:00`);
  const toTime = new Date(`${schedulePeriod.to}T00:00`);
  toTime.setDate(toTime.getDate() + 1);
  const schedule = await get(`/api/v1/schedule?from=${enc(fromTime.toISOString())}&to=${enc(toTime.toISOString())}`);
  const visits = schedule.visits || [];
  const nurses = new Map();
  for (const sv of visits) {
    const v = sv.visit || {};
    if (v.nurseId) nurses.set(v.nurseId, v.nurseName || v.nurseId);
  }
  const from = h('input', {type: 'date', name: 'from', value: schedulePeriod.from, required: true});
  const to = h('input', {type: 'date', name: 'to', value: schedulePeriod.to, required: true});
  const period = h('form', {class: 'inline'}, field('From', from), field('To (including)', to),
    h('button', {type: 'submit'}, 'Show'));
  period.addEventListener('submit', (event) => {
    event.preventDefault();
    schedulePeriod = {from: from.value, to: to.value};
    act(null, async () => {}, `Showing the visits from ${from.value} to ${to.value}.`);
  });
  const assign = (v) => {
    const nurse = nurseSelect([...nurses], v.nurseId, {'aria-label': `Nurse for ${v.patientId} at ${v.scheduledStart}`});
    const button = h('button', {type: 'button'}, 'Assign');
    button.addEventListener('click', () => act(button,
      () => put(`/api/v1/patients/${enc(v.patientId)}/visits/${enc(v.id)}`, {nurseId: nurse.value}),
      'The visit was reassigned.'));
    return [nurse, ' ', button];
  };
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'Visit schedule'),
    h('p', {}, 'Every organisation\'s visits to your patients. Assign a visit to another nurse of the patient\'s care team.'),
    period,
    visits.length ? h('table', {class: 'schedule'}, visitHeader('Nurse'),
      h('tbody', {}, visits.map((sv) => scheduledVisitRow(sv, {assign})))) : empty('No visits in this period.'));
}

let sample = null;
let sampleSize = '10';

export async function auditPage() {
  const reviews = await optional(get('/api/v1/audit/reviews'));
  const size = h('input', {type: 'number', name: 'size', min: 1, max: 100, value: sampleSize, required: true});
  const draw = onSubmit(h('form', {class: 'inline'}, field('How many entries', size),
    h('button', {type: 'submit'}, 'Draw a random sample')),
  async () => {
    sampleSize = size.value;
    sample = (await get(`/api/v1/audit/sample?size=${enc(size.value)}`)).entries || [];
  },
  'A new sample was drawn.');

  const parts = [h('h1', {tabindex: '-1'}, 'Access log check'),
    h('p', {}, 'Check a random sample of your organisation\'s access log: was each read part of someone\'s care? ' +
      'Record what you found.'), draw];
  if (sample) parts.push(sampleSection(sample));
  parts.push(section('Past checks', reviews.error ? failed(reviews.error)
    : (reviews.value.reviews || []).length ? h('ul', {class: 'cards'}, reviews.value.reviews.map((r) => h('li', {class: 'card review'},
      h('p', {}, h('strong', {}, r.finding === 'concern' ? 'Concern' : 'OK'), ` · ${(r.entrySeqs || []).length} entries · `,
        `by ${r.reviewerId} · `, timeTag(r.reviewedAt)),
      h('p', {class: 'meta'}, 'Entries checked: ', (r.entrySeqs || []).map((seq) => `#${seq}`).join(', ')),
      r.note ? h('p', {}, r.note) : null))) : empty('No checks recorded yet.')));
  return h('div', {}, parts);
}

function sampleSection(entries) {
  const ok = h('input', {type: 'radio', name: 'finding', value: 'ok', checked: true});
  const concern = h('input', {type: 'radio', name: 'finding', value: 'concern'});
  const note = h('textarea', {name: 'note', rows: 3});
  const record = onSubmit(h('form', {class: 'review-form'},
    h('fieldset', {}, h('legend', {}, 'Finding'),
      h('label', {class: 'choice'}, ok, ' Every read was part of someone\'s care'),
      h('label', {class: 'choice'}, concern, ' Something needs a closer look')),
    field('Note', note), h('button', {type: 'submit'}, 'Record the check')),
  async () => {
    await post('/api/v1/audit/reviews', {entrySeqs: entries.map((e) => e.seq), finding: concern.checked ? 'concern' : 'ok',
      note: note.value.trim()});
    sample = null;
  }, 'The check was recorded.');
  return section(`Sample of ${entries.length} entries`,
    entries.length ? h('table', {class: 'sample'},
      h('thead', {}, h('tr', {}, ['#', 'When', 'Who', 'Patient', 'Action', 'Outcome'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, entries.map((e) => h('tr', {}, h('td', {}, e.seq), h('td', {}, timeTag(e.at)), h('td', {}, e.userId),
        h('td', {}, e.patientId || '—'), h('td', {}, e.action, e.purpose ? ` (${e.purpose})` : '', e.emergency ? ' · emergency' : ''),
        h('td', {}, e.outcome))))) : empty('The log has no entries to check.'),
    record);
}
