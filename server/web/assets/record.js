// One patient's record for practitioners: details, plan, care team, visits,
// timeline and messages; physicians also sign proposals and resolve
// conflicts here; coordinators edit the plan, the team, visits, consent and
// blocks and read the access log.
import {ApiError, enc, get, plainWords, post} from './api.js';
import {empty, field, h, learnOrganisation, organisationName, section, select, timeTag} from './dom.js';
import {riskBadge} from './news2.js';
import {conflictCard, proposalCard} from './physician.js';
import {coordinatorSections, planEditor} from './coordinator.js';
import {onSubmit} from './ui.js';

export const kRoles = [['NURSE', 'Nurse'], ['PHYSICIAN', 'Physician'], ['COORDINATOR', 'Coordinator']];
export const roleName = (role) => (kRoles.find(([r]) => r === role) || [role, role || ''])[1];

// Loads a part of the page; a failure shows in that part only.
export async function optional(promise) {
  try {
    return {value: await promise};
  } catch (error) {
    return {error};
  }
}
export function failed(error) {
  return h('p', {class: 'error'}, plainWords(error));
}

// A physician's emergency read (break the glass): the patient and the
// reason, sent with the record and timeline reads until another patient is
// opened. Every such read is flagged in the audit log.
let emergency = null;

function refusedPage(me, patientId, error) {
  const reason = h('textarea', {name: 'reason', rows: 2, required: true});
  const form = onSubmit(h('form', {class: 'emergency'},
    h('h2', {}, 'Emergency access'),
    h('p', {}, 'In an emergency a physician may read this record without a care relationship or consent. ' +
      'The read is flagged for review in the audit log, with your reason.'),
    field('Reason for emergency access', reason),
    h('button', {type: 'submit', class: 'danger'}, 'Read the record under emergency access')),
  () => { emergency = {patientId, reason: reason.value.trim()}; },
  'Read under emergency access; the read is flagged for review.');
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'This page could not be shown'),
    h('p', {class: 'error'}, plainWords(error)),
    me.role === 'PHYSICIAN' ? form : null);
}

export async function recordPage(me, patientId) {
  const base = `/api/v1/patients/${enc(patientId)}`;
  if (emergency && emergency.patientId !== patientId) emergency = null;
  const headers = emergency ? {'X-Hemma-Emergency-Reason': emergency.reason} : {};
  let record;
  try {
    record = await get(base, headers);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return refusedPage(me, patientId, error);
    throw error;
  }
  const role = me.role;
  // An emergency read covers the record and the timeline only.
  const normal = !record.emergencyAccess;
  const [timeline, messages, proposals, conflicts] = await Promise.all([
    optional(get(`${base}/timeline`, headers)),
    normal ? optional(get(`${base}/messages`)) : null,
    normal && (role === 'PHYSICIAN' || role === 'NURSE') ? optional(get(`${base}/proposals`)) : null,
    normal ? optional(get(`/api/v1/conflicts?patient=${enc(patientId)}`)) : {},
  ]);
  const p = record.patient || {};
  const names = new Map((record.careTeam && record.careTeam.members || []).map((m) => [m.practitionerId, m.name]));
  const activities = new Map(((record.plan || {}).activities || []).map((a) => [a.id, a.text]));
  for (const m of (record.plan || {}).medications || []) activities.set(m.id, m.name || m.id);
  if (timeline.value) {
    for (const e of timeline.value.entries || []) {
      learnOrganisation(e.organisationId, e.organisationName);
      if (e.authorName) names.set(e.authorId, e.authorName);
    }
  }
  const context = {me, patientId, base, record, names, activities};

  const parts = [
    h('h1', {tabindex: '-1'}, p.name || patientId),
    record.emergencyAccess ? h('p', {class: 'notice'}, 'Read under emergency access; this read is flagged for review.') : null,
    h('dl', {class: 'facts'},
      h('dt', {}, 'Personal identity number'), h('dd', {}, p.nationalId || '—'),
      h('dt', {}, 'Address'), h('dd', {}, p.address || '—'),
      h('dt', {}, 'Access notes'), h('dd', {}, p.accessNotes || '—'),
      h('dt', {}, 'Language'), h('dd', {}, p.preferredLanguage || '—'),
      h('dt', {}, 'Home organisation'), h('dd', {}, organisationName(record.homeOrganisationId))),
  ];
  if (role === 'COORDINATOR') {
    parts.push(planEditor(context));
  } else {
    parts.push(planSection(record.plan));
  }
  if (proposals && proposals.value) {
    const pending = (proposals.value.proposals || []).filter((x) => x.status === 'PENDING');
    if (pending.length || role === 'PHYSICIAN') {
      parts.push(section('Proposed plan changes',
        pending.length ? h('ul', {class: 'cards'}, pending.map((x) => (role === 'PHYSICIAN'
          ? proposalCard(x, {showPatient: false, plan: record.plan, names}) : proposalSummary(x)))) : empty('No proposals wait for a decision.')));
    }
  }
  if (conflicts.value && (conflicts.value.conflicts || []).length) {
    parts.push(section('Sync conflicts', h('ul', {class: 'cards'},
      conflicts.value.conflicts.map((c) => conflictCard(c, {showPatient: false})))));
  }
  if (role === 'COORDINATOR') {
    parts.push(...await coordinatorSections(context));
  } else {
    parts.push(teamSection(record.careTeam), visitsSection(record.visits, names, activities));
  }
  if (messages) parts.push(messagesSection(context, messages));
  parts.push(section('Timeline', timeline.error ? failed(timeline.error) : timelineList(timeline.value, names, activities)));
  return h('div', {class: 'record'}, parts);
}

function proposalSummary(x) {
  return h('li', {class: 'card'}, `${x.entityType} ${x.entityId}, ${x.field}: “${x.currentValue || ''}” → “${x.proposedValue}”`,
    h('p', {class: 'meta'}, `Proposed by ${x.proposerId} · waiting for a physician`));
}

export function planSection(plan) {
  plan = plan || {};
  return section('Care plan',
    h('p', {}, 'Overall responsibility: ', h('strong', {}, organisationName(plan.overallResponsibleOrganisationId) || '—'),
      plan.status ? ` · ${plan.status.toLowerCase()}` : '',
    plan.spo2Scale2 ? ' · NEWS2 scores SpO₂ on scale 2 (target 88–92 %)' : ''),
    h('h3', {}, 'Goals'),
    (plan.goals || []).length ? h('ul', {}, plan.goals.map((g) => h('li', {}, g.text))) : empty('No goals yet.'),
    h('h3', {}, 'Activities'),
    (plan.activities || []).length
      ? h('table', {class: 'activities'},
        h('thead', {}, h('tr', {}, ['Activity', 'How often', 'Organisation', 'Role'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, plan.activities.map((a) => h('tr', {dataset: {activity: a.id}},
          h('td', {}, a.text), h('td', {class: 'frequency'}, a.frequency || '—'),
          h('td', {}, organisationName(a.responsibleOrganisationId)), h('td', {}, roleName(a.responsibleRole))))))
      : empty('No activities yet.'),
    medicationList(plan));
}

// The plan's medications, when it has any.
export function medicationList(plan, {heading = 'Medications'} = {}) {
  const medications = (plan && plan.medications) || [];
  if (!medications.length) return null;
  return [h('h3', {}, heading), h('ul', {class: 'medications'}, medications.map((m) => h('li', {dataset: {medication: m.id}},
    [m.name || m.id, m.dose, m.frequency].filter(Boolean).join(', '))))];
}

export function responsibility(r) {
  return {RESPONSIBLE_PHYSICIAN: 'responsible physician', RESPONSIBLE_NURSE: 'responsible nurse', MEMBER: 'member'}[r] || 'member';
}

function teamSection(team) {
  const members = (team && team.members) || [];
  return section('Care team', members.length ? h('ul', {}, members.map((m) => h('li', {},
    `${m.name || m.practitionerId} — ${roleName(m.role).toLowerCase()}, ${organisationName(m.organisationId)} (${responsibility(m.responsibility)})`)))
    : empty('Nobody is in the care team.'));
}

export function visitStatus(status) {
  return {PLANNED: 'planned', IN_PROGRESS: 'in progress', DONE: 'done', CANCELLED: 'cancelled'}[status] || '';
}

function visitsSection(visits, names, activities) {
  visits = visits || [];
  return section('Visits', visits.length ? h('ul', {}, visits.map((v) => h('li', {},
    timeTag(v.scheduledStart), ` · ${v.nurseName || names.get(v.nurseId) || v.nurseId || 'no nurse yet'} · ${visitStatus(v.status)}`,
    v.activityId ? ` · ${activities.get(v.activityId) || v.activityId}` : '')))
    : empty('No visits are scheduled.'));
}

const kConsciousness = {ALERT: 'alert', NEW_CONFUSION: 'new confusion', VOICE: 'responds to voice',
  PAIN: 'responds to pain', UNRESPONSIVE: 'unresponsive'};

export function vitalSignsText(v) {
  const parts = [];
  if (v.respiratoryRate !== undefined) parts.push(`respiration ${v.respiratoryRate}/min`);
  if (v.spo2 !== undefined) parts.push(`SpO₂ ${v.spo2} %${v.spo2Scale2 ? ' (scale 2)' : ''}`);
  if (v.onOxygen !== undefined) parts.push(v.onOxygen ? 'on oxygen' : 'room air');
  if (v.systolicBp !== undefined) parts.push(`systolic BP ${v.systolicBp} mmHg`);
  if (v.pulse !== undefined) parts.push(`pulse ${v.pulse}/min`);
  if (v.consciousness) parts.push(kConsciousness[v.consciousness] || v.consciousness);
  if (v.temperatureC !== undefined) parts.push(`temperature ${v.temperatureC} °C`);
  return parts.join(', ');
}

// What one timeline entry says, by kind.
function entryBody(e, names, activities) {
  if (e.note) return [h('span', {class: 'kind'}, e.note.amendsNoteId ? 'Note (correction)' : 'Note'), e.note.text];
  if (e.observation) {
    const o = e.observation;
    return [h('span', {class: 'kind'}, 'Observation'), `${o.code.replaceAll('_', ' ')} ${o.value ?? 0} ${o.unit || ''}`];
  }
  if (e.vitalSigns) {
    const v = e.vitalSigns;
    return [h('span', {class: 'kind'}, 'Vital signs'), vitalSignsText(v), ' ',
      riskBadge({score: v.news2Score, risk: v.news2Risk})];
  }
  if (e.taskOutcome) {
    const t = e.taskOutcome;
    const outcome = {DONE: 'done', NOT_DONE: 'not done', REFUSED: 'refused by the patient'}[t.outcome] || '';
    return [h('span', {class: 'kind'}, 'Task'), `${activities.get(t.activityId) || t.activityId}: ${outcome}`,
      t.reason ? ` (${t.reason})` : ''];
  }
  if (e.medicationAdministration) {
    const m = e.medicationAdministration;
    return [h('span', {class: 'kind'}, 'Medication'),
      m.given ? `${activities.get(m.medicationId) || m.medicationId} given${m.dose ? `, ${m.dose}` : ''}`
        : `${activities.get(m.medicationId) || m.medicationId} not given: ${m.reason || ''}`];
  }
  if (e.message) {
    const m = e.message;
    return [h('span', {class: 'kind'}, m.urgent ? 'Urgent message' : 'Message'),
      `to ${m.recipientId ? names.get(m.recipientId) || m.recipientId : 'the responsible physician'}: ${m.text}`];
  }
  if (e.proposedChange) {
    const c = e.proposedChange;
    return [h('span', {class: 'kind'}, 'Proposed change'),
      `${c.entityType} ${c.entityId}, ${c.field} → “${c.proposedValue}”${c.reason ? ` (${c.reason})` : ''}`];
  }
  return [h('span', {class: 'kind'}, 'Entry')];
}

export function entryKind(e) {
  return ['note', 'observation', 'vitalSigns', 'taskOutcome', 'medicationAdministration', 'message', 'proposedChange']
    .find((k) => e[k]) || 'other';
}

const kKinds = [['note', 'Notes'], ['observation', 'Observations'], ['vitalSigns', 'Vital signs'],
  ['taskOutcome', 'Tasks'], ['medicationAdministration', 'Medication'], ['message', 'Messages'],
  ['proposedChange', 'Proposed changes']];

// Newest first; each entry names its organisation, author and time. Two
// selectors narrow the list to one kind or one organisation.
export function timelineList(timeline, names, activities) {
  const entries = [...((timeline && timeline.entries) || [])].reverse();
  if (!entries.length) return empty('Nothing has been recorded yet.');
  const list = h('ol', {class: 'timeline'}, entries.map((e) => h('li',
    {class: 'entry', dataset: {kind: entryKind(e), organisation: e.organisationId || ''}},
    h('p', {class: 'body'}, entryBody(e, names, activities)),
    h('p', {class: 'meta'},
      h('span', {class: 'org'}, e.organisationName || e.organisationId || 'unknown organisation'), ' · ',
      h('span', {class: 'author'}, e.authorName || e.authorId), ' · ',
      timeTag(e.recordedAt)))));
  const organisations = new Map(entries.map((e) => [e.organisationId || '', e.organisationName || e.organisationId]));
  const kind = select([['', 'Every kind'], ...kKinds.filter(([k]) => entries.some((e) => entryKind(e) === k))], '',
    {name: 'kind'});
  const organisation = select([['', 'Every organisation'], ...organisations], '', {name: 'organisation'});
  const shown = h('p', {class: 'meta', 'aria-live': 'polite'});
  const apply = () => {
    let count = 0;
    for (const item of list.children) {
      item.hidden = (kind.value && item.dataset.kind !== kind.value) ||
        (organisation.value && item.dataset.organisation !== organisation.value);
      if (!item.hidden) count += 1;
    }
    shown.textContent = `${count} of ${entries.length} entries shown`;
  };
  kind.addEventListener('change', apply);
  organisation.addEventListener('change', apply);
  apply();
  return [h('div', {class: 'row'}, field('Show', kind), field('From', organisation)), shown, list];
}

function messagesSection(context, messages) {
  const {base, names, record} = context;
  if (messages.error) return section('Messages', failed(messages.error));
  const list = messages.value.messages || [];
  const byId = new Map(list.map((m) => [m.id, m]));
  const who = (id) => names.get(id) || id;
  const members = (record.careTeam && record.careTeam.members) || [];

  const item = (m) => {
    const text = h('textarea', {name: 'text', rows: 2, required: true});
    const reply = onSubmit(h('form', {class: 'inline'}, field('Your reply', text), h('button', {type: 'submit'}, 'Send reply')),
      () => post(`${base}/messages`, {text: text.value.trim(), recipientId: m.authorId, inReplyTo: m.id}),
      'Your reply was sent.');
    const parent = m.inReplyTo ? byId.get(m.inReplyTo) : null;
    return h('li', {class: `card message${m.urgent ? ' urgent' : ''}`, dataset: {message: m.id}},
      h('p', {class: 'meta'}, m.urgent ? h('strong', {}, 'Urgent · ') : '', `From ${who(m.authorId)} to `,
        m.recipientId ? who(m.recipientId) : 'the responsible physician', ' · ', timeTag(m.sentAt),
        parent ? ` · in reply to “${parent.text.slice(0, 40)}”` : ''),
      h('p', {}, m.text),
      m.vitalSigns ? h('p', {class: 'meta'}, 'Vital signs: ', vitalSignsText(m.vitalSigns), ' ',
        riskBadge({score: m.vitalSigns.news2Score, risk: m.vitalSigns.news2Risk})) : null,
      h('details', {}, h('summary', {}, 'Reply'), reply));
  };

  const text = h('textarea', {name: 'text', rows: 3, required: true});
  const recipient = select([['', 'The responsible physician'],
    ...members.filter((m) => m.practitionerId !== context.me.userId).map((m) => [m.practitionerId, `${m.name} (${roleName(m.role).toLowerCase()})`])],
  '', {name: 'recipient'});
  const urgent = h('input', {type: 'checkbox', name: 'urgent'});
  const compose = onSubmit(h('form', {class: 'compose'},
    h('h3', {}, 'New message'), field('To', recipient), field('Message', text),
    h('label', {class: 'choice'}, urgent, ' Urgent'), h('button', {type: 'submit'}, 'Send')),
  () => post(`${base}/messages`, {text: text.value.trim(), recipientId: recipient.value, urgent: urgent.checked}),
  'Your message was sent.');
  return section('Messages', list.length ? h('ul', {class: 'cards'}, [...list].reverse().map(item)) : empty('No messages yet.'), compose);
}

