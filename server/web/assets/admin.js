// Administrators: no clinical records. They review their organisation's
// audit log and revoke lost tablets.
import {enc, get, post} from './api.js';
import {empty, field, h, section, timeTag} from './dom.js';
import {failed, optional} from './record.js';
import {onSubmit} from './ui.js';

export async function adminPage(me) {
  const audit = await optional(get('/api/v1/audit?limit=50'));
  const device = h('input', {name: 'device', required: true, autocomplete: 'off'});
  const revoke = onSubmit(h('form', {class: 'inline'},
    field('Device id', device, 'The tablet\'s id, for example tablet-karin'),
    h('button', {type: 'submit', class: 'danger'}, 'Revoke the device')),
  () => post(`/api/v1/devices/${enc(device.value.trim())}/revoke`),
  'The device was revoked. Its token no longer works, and the tablet wipes its patient data at its next sync.');
  return h('div', {},
    h('h1', {tabindex: '-1'}, 'Administration'),
    h('p', {}, `As an administrator of ${me.organisationId} you have no access to patients' records. You can:`),
    h('ul', {},
      h('li', {}, 'revoke a lost or stolen tablet of a user in your organisation;'),
      h('li', {}, 'read your organisation\'s audit log: who read or changed which record, and when.')),
    section('Revoke a tablet', revoke),
    section('Audit log (the newest 50 entries)', audit.error ? failed(audit.error)
      : (audit.value.entries || []).length ? h('table', {class: 'audit'},
        h('thead', {}, h('tr', {}, ['When', 'Who', 'Patient', 'Action', 'Outcome'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, audit.value.entries.map((e) => h('tr', {}, h('td', {}, timeTag(e.at)), h('td', {}, e.userId),
          h('td', {}, e.patientId || '—'), h('td', {}, e.action, e.emergency ? ' · emergency' : ''), h('td', {}, e.outcome)))))
        : empty('The audit log is empty.')));
}
