// The patient's own view: plan, upcoming visits and who is coming, who read
// the record, and consent, in Swedish, Finnish or English. The language
// choice is kept in the browser and on the server (the patient's preferred
// language, which the nurses' tablets also show).
import {enc, get, post, put} from './api.js';
import {$, empty, field, h, learnOrganisation, organisationName, section, select, setLocale, timeTag} from './dom.js';
import {isLanguage, kLanguages, translate} from './i18n.js';
import {act, onSubmit} from './ui.js';

const kStorageKey = 'hemma.language';

export function chosenLanguage(record) {
  const stored = localStorage.getItem(kStorageKey);
  if (isLanguage(stored)) return stored;
  const preferred = record && record.patient && record.patient.preferredLanguage;
  return isLanguage(preferred) ? preferred : 'sv';
}

export async function patientHome(me) {
  const id = me.patientId;
  const base = `/api/v1/patients/${enc(id)}`;
  const [record, consents, accessLog] = await Promise.all([get(base), get(`${base}/consents`), get(`${base}/access-log`)]);
  const language = chosenLanguage(record);
  const t = (key, values) => translate(language, key, values);
  document.documentElement.lang = language;
  setLocale(language);
  $('logout').textContent = t('logout');
  const entries = accessLog.entries || [];
  for (const e of entries) learnOrganisation(e.organisationId, e.organisationName);

  const chooser = select(kLanguages, language, {name: 'language'});
  chooser.addEventListener('change', () => act(chooser, async () => {
    localStorage.setItem(kStorageKey, chooser.value);
    await put(`${base}/language`, {language: chooser.value});
  }, translate(chooser.value, 'language.saved'), {translate: (key) => translate(chooser.value, key)}));

  return h('div', {class: 'patient-home', lang: language},
    h('div', {class: 'title-row'}, h('h1', {tabindex: '-1'}, t('title')), field(t('language'), chooser)),
    planSection(record, t),
    visitsSection(record, t),
    teamSection(record, t),
    accessSection(entries, t),
    consentSection(record, consents.consents || [], entries, base, t));
}

function planSection(record, t) {
  const plan = record.plan;
  if (!plan || (!(plan.goals || []).length && !(plan.activities || []).length)) return section(t('plan'), empty(t('plan.none')));
  return section(t('plan'),
    plan.overallResponsibleOrganisationId
      ? h('p', {}, t('plan.responsible', {org: organisationName(plan.overallResponsibleOrganisationId)})) : null,
    h('h3', {}, t('plan.goals')),
    h('ul', {}, (plan.goals || []).map((g) => h('li', {}, g.text))),
    h('h3', {}, t('plan.activities')),
    h('table', {class: 'activities'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, t('activity.what')), h('th', {scope: 'col'}, t('activity.often')),
        h('th', {scope: 'col'}, t('activity.who')))),
      h('tbody', {}, (plan.activities || []).map((a) => h('tr', {dataset: {activity: a.id}},
        h('td', {}, a.text), h('td', {class: 'frequency'}, a.frequency || '—'),
        h('td', {}, [organisationName(a.responsibleOrganisationId),
          a.responsibleRole ? t(`role.${a.responsibleRole}`) : ''].filter(Boolean).join(', ')))))),
    (plan.medications || []).length ? [h('h3', {}, t('plan.medications')), h('ul', {class: 'medications'},
      plan.medications.map((m) => h('li', {}, [m.name || m.id, m.dose, m.frequency].filter(Boolean).join(', '))))] : null);
}

function visitsSection(record, t) {
  const names = new Map(((record.careTeam && record.careTeam.members) || []).map((m) => [m.practitionerId, m.name]));
  const since = Date.now() - 60 * 60 * 1000;
  const upcoming = (record.visits || [])
    .filter((v) => v.status !== 'DONE' && new Date(v.scheduledStart).getTime() >= since)
    .sort((a, b) => a.scheduledStart.localeCompare(b.scheduledStart));
  return section(t('visits'), upcoming.length ? h('ul', {class: 'visits'}, upcoming.map((v) => {
    const name = v.nurseName || names.get(v.nurseId);
    const status = ['IN_PROGRESS', 'CANCELLED'].includes(v.status) ? ` (${t(`visit.status.${v.status}`)})` : '';
    return h('li', {dataset: {visit: v.id}}, timeTag(v.scheduledStart), ' — ',
      name ? t('visit.who', {name}) : t('visit.nobody'), status);
  })) : empty(t('visits.none')));
}

function teamSection(record, t) {
  const members = (record.careTeam && record.careTeam.members) || [];
  return section(t('team'), h('ul', {}, members.map((m) => h('li', {},
    `${m.name || m.practitionerId} (${m.role ? t(`role.${m.role}`) : ''}, ${organisationName(m.organisationId)})`))));
}

function accessSection(entries, t) {
  return section(t('access'), h('p', {}, t('access.intro')), entries.length
    ? h('table', {class: 'access-log'},
      h('thead', {}, h('tr', {}, [t('access.when'), t('access.unit'), t('access.organisation')]
        .map((text) => h('th', {scope: 'col'}, text)))),
      h('tbody', {}, entries.slice(0, 50).map((e) => h('tr', {},
        h('td', {}, timeTag(e.at), e.emergency ? ` (${t('access.emergency')})` : ''),
        h('td', {}, e.unitName || e.unitId), h('td', {}, e.organisationName || e.organisationId)))))
    : empty(t('access.none')));
}

function consentSection(record, consents, accessEntries, base, t) {
  const now = new Date();
  const active = (c) => !c.withdrawnAt && (!c.validUntil || new Date(c.validUntil) > now);
  // Errors from these actions are said in the patient's language too.
  const translateError = (key) => t(key);
  const organisations = new Set([...consents.map((c) => c.organisationId), ...accessEntries.map((e) => e.organisationId),
    ...(((record.plan || {}).activities) || []).map((a) => a.responsibleOrganisationId),
    ...((record.careTeam && record.careTeam.members) || []).map((m) => m.organisationId)]
    .filter((id) => id && id !== record.homeOrganisationId));
  const withoutConsent = [...organisations].filter((id) => !consents.some((c) => c.organisationId === id && active(c)));

  const items = consents.map((c) => {
    const org = organisationName(c.organisationId);
    let controls = null;
    if (active(c)) {
      const withdraw = h('button', {type: 'button', class: 'secondary'}, t('consent.withdraw', {org}));
      withdraw.addEventListener('click', () => act(withdraw, () => post(`/api/v1/consents/${enc(c.id)}/withdraw`),
        t('consent.withdrawn.done'), {translate: translateError}));
      controls = withdraw;
    }
    return h('li', {dataset: {consent: c.id, organisation: c.organisationId}, class: active(c) ? 'active' : 'inactive'},
      h('p', {}, t('consent.active', {org}), ' ', t('consent.since', {date: timeTag(c.validFrom).textContent}),
        c.validUntil ? ` ${t('consent.until', {date: timeTag(c.validUntil).textContent})}` : ''),
      c.withdrawnAt ? h('p', {class: 'meta'}, t('consent.withdrawn', {date: timeTag(c.withdrawnAt).textContent})) : null,
      controls);
  });

  let give = null;
  if (withoutConsent.length) {
    const organisation = select(withoutConsent.map((id) => [id, organisationName(id)]), withoutConsent[0],
      {name: 'organisation'});
    give = onSubmit(h('form', {class: 'inline'}, h('h3', {}, t('consent.give')), field(t('consent.give.org'), organisation),
      h('button', {type: 'submit'}, t('consent.give'))),
    () => post(`${base}/consents`, {organisationId: organisation.value}), t('consent.given.done'), {translate: translateError});
  }
  return section(t('consent'), h('p', {}, t('consent.intro')),
    items.length ? h('ul', {class: 'consents'}, items) : empty(t('consent.none')), give);
}
