// Practitioners' lists: my patients with NEWS2, the proposal queue, and the
// sync conflicts to review.
import {enc, get, post} from './api.js';
import {empty, field, h, organisationName, timeTag} from './dom.js';
import {riskBadge, sparkline} from './news2.js';
import {onAlerts} from './alerts.js';
import {act, onSubmit, refresh} from './ui.js';

// Patient names for the queues, from the last patient list.
const patientNames = new Map();
export function patientName(id) {
  return patientNames.get(id) || id;
}
async function loadPatients() {
  const list = await get('/api/v1/patients');
  for (const p of list.patients || []) patientNames.set(p.patientId, p.name || p.patientId);
  return list.patients || [];
}

onAlerts(() => {
  // A new score: the list on screen would be stale, so draw it again.
  if (location.hash === '#/patients') refresh();
});

export async function patientsPage(me) {
  const patients = await loadPatients();
  const latest = (p) => (p.news2 && p.news2.length ? p.news2[p.news2.length - 1] : null);
  const rows = patients.map((p) => h('tr', {dataset: {patient: p.patientId}},
    h('th', {scope: 'row'}, h('a', {href: `#/patients/${enc(p.patientId)}`}, p.name || p.patientId)),
    h('td', {}, organisationName(p.homeOrganisationId)),
    h('td', {class: 'news2'}, riskBadge(latest(p))),
    h('td', {}, sparkline(p.news2))));
  return h('div', {},
    h('h1', {tabindex: '-1'}, me.role === 'COORDINATOR' ? 'Patients' : 'My patients'),
    patients.length
      ? h('table', {class: 'patients'},
        h('caption', {}, 'Latest NEWS2 and its trend (the last readings, oldest first)'),
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Patient'), h('th', {scope: 'col'}, 'Home organisation'),
          h('th', {scope: 'col'}, 'Latest NEWS2'), h('th', {scope: 'col'}, 'Trend'))),
        h('tbody', {}, rows))
      : empty('No patients are in your care.'));
}

// What a proposal changes, in words: the plan item's own text when the
// patient's plan is at hand (`plan`), else its id.
export function describeChange(p, plan) {
  const kinds = {care_plan_activity: 'Activity', care_plan_goal: 'Goal', medication: 'Medication', care_plan: 'Care plan'};
  const items = plan ? [...(plan.activities || []), ...(plan.goals || []), ...(plan.medications || [])] : [];
  const item = items.find((x) => x.id === p.entityId);
  const label = item ? `“${item.text || item.name}”` : p.entityType === 'care_plan' ? '' : p.entityId;
  return `${kinds[p.entityType] || p.entityType} ${label}, ${p.field.replaceAll('_', ' ')}`.replace('  ', ' ');
}

// One proposal with its sign and reject controls.
export function proposalCard(p, {showPatient = true, plan, names} = {}) {
  const reason = h('textarea', {name: 'reason', rows: 2, required: true});
  const reject = onSubmit(h('form', {class: 'inline'},
    field('Reason for rejecting', reason),
    h('button', {type: 'submit', class: 'danger'}, 'Reject')),
  () => post(`/api/v1/proposals/${enc(p.id)}/reject`, {reason: reason.value.trim()}),
  'The proposal was rejected.');
  const sign = h('button', {type: 'button'}, 'Sign');
  sign.addEventListener('click', () => act(sign, () => post(`/api/v1/proposals/${enc(p.id)}/sign`),
    'Signed. The change is now in the care plan.'));
  return h('li', {class: 'card proposal', dataset: {proposal: p.id}},
    h('h3', {}, showPatient ? h('a', {href: `#/patients/${enc(p.patientId)}`}, patientName(p.patientId)) : null,
      showPatient ? ': ' : '', describeChange(p, plan)),
    h('p', {class: 'change'}, h('span', {class: 'old'}, p.currentValue ? `“${p.currentValue}”` : '(empty)'), ' → ',
      h('strong', {class: 'new'}, `“${p.proposedValue}”`)),
    p.reason ? h('p', {}, 'Reason: ', p.reason) : null,
    h('p', {class: 'meta'}, `Proposed by ${(names && names.get(p.proposerId)) || p.proposerId} · `, timeTag(p.createdAt)),
    p.status === 'PENDING'
      ? h('div', {class: 'actions'}, sign, reject)
      : h('p', {class: 'meta'}, `${p.status.toLowerCase()} by ${p.decidedBy || ''} `, timeTag(p.decidedAt),
        p.decisionReason ? ` · ${p.decisionReason}` : ''));
}

export async function proposalsPage() {
  const [queue] = await Promise.all([get('/api/v1/proposals'), loadPatients()]);
  const proposals = queue.proposals || [];
  // Each patient's plan and team, to say what a proposal changes and who made it.
  const records = new Map(await Promise.all([...new Set(proposals.map((p) => p.patientId))].map(async (id) => {
    try {
      return [id, await get(`/api/v1/patients/${enc(id)}`)];
    } catch {
      return [id, null];
    }
  })));
  const context = (p) => {
    const record = records.get(p.patientId);
    if (!record) return {};
    return {plan: record.plan, names: new Map(((record.careTeam || {}).members || []).map((m) => [m.practitionerId, m.name]))};
  };
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'Plan changes to sign'),
    h('p', {}, 'Nurses propose these changes to the care plan. Signing writes the change into the plan; ' +
      'rejecting needs a reason, which the nurse sees.'),
    proposals.length ? h('ul', {class: 'cards'}, proposals.map((p) => proposalCard(p, context(p)))) : empty('Nothing waits for your signature.'));
}

export function conflictCard(c, {showPatient = true} = {}) {
  const choices = [['kept', c.kept], ['overwritten', c.overwritten]].filter(([, side]) => side);
  const group = `choice-${c.id}`;
  const other = h('input', {name: 'other', 'aria-label': 'Other value'});
  const radios = choices.map(([which, side], index) => h('label', {class: 'choice'},
    h('input', {type: 'radio', name: group, value: side.value || '', checked: index === 0}),
    ` “${side.value || ''}” by ${side.authorId || '?'}`, side.recordedAt ? ' at ' : '',
    side.recordedAt ? timeTag(side.recordedAt) : '', which === 'kept' ? ' (shown now)' : ''));
  const otherRadio = h('input', {type: 'radio', name: group, value: ''});
  const form = onSubmit(h('form', {class: 'resolve'},
    h('fieldset', {}, h('legend', {}, 'Which value is right?'), radios,
      h('label', {class: 'choice'}, otherRadio, ' Another value:'), other),
    h('button', {type: 'submit'}, 'Resolve')),
  (f) => {
    const picked = f.querySelector('input[type=radio]:checked');
    const value = picked === otherRadio ? other.value : picked.value;
    return post(`/api/v1/conflicts/${enc(c.id)}/resolve`, {value});
  }, 'The conflict is resolved; every tablet gets the chosen value.');
  other.addEventListener('input', () => { otherRadio.checked = true; });
  return h('li', {class: 'card conflict', dataset: {conflict: c.id}},
    h('h3', {}, showPatient ? h('a', {href: `#/patients/${enc(c.patientId)}`}, patientName(c.patientId)) : null,
      showPatient ? ': ' : '', `${c.entityType} ${c.entityId}, ${c.field}`),
    h('p', {}, 'Two people changed this without seeing each other\'s change. Both values are kept until someone confirms one.'),
    c.resolvedByOperationId ? h('p', {class: 'meta'}, 'Resolved.') : form);
}

export async function conflictsPage() {
  const [list] = await Promise.all([get('/api/v1/conflicts'), loadPatients()]);
  const conflicts = list.conflicts || [];
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'Sync conflicts to review'),
    conflicts.length ? h('ul', {class: 'cards'}, conflicts.map((c) => conflictCard(c))) : empty('No open conflicts.'));
}
