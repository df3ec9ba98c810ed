// The alert banner: polls GET /api/v1/alerts?after=<seq> every few seconds
// and shows a patient's NEWS2 rising to medium or high, or an urgent
// message, without a reload. The region is aria-live, so screen readers
// announce it.
import {ApiError, enc, get} from './api.js';
import {$, h, when} from './dom.js';
import {riskLabel} from './news2.js';

const kPollMs = 3000;
const kShown = 5;
let timer = null;
let lastSeq = '0';
let running = false;
// The first answer after login catches up with alerts the pages already
// show; only later ones make the pages draw again.
let caughtUp = false;
const listeners = new Set();

// Called with each new batch of alerts (e.g. to refresh the patient list).
export function onAlerts(listener) {
  listeners.add(listener);
}

export function startAlerts() {
  if (running) return;
  running = true;
  caughtUp = false;
  lastSeq = sessionStorage.getItem('hemma.alerts.after') || '0';
  poll();
}

export function stopAlerts() {
  running = false;
  clearTimeout(timer);
  $('alerts').replaceChildren();
  delete $('alerts').dataset.caughtUp;
}

async function poll() {
  if (!running) return;
  try {
    const answer = await get(`/api/v1/alerts?after=${enc(lastSeq)}`);
    const alerts = answer.alerts || [];
    if (answer.lastSeq) {
      lastSeq = answer.lastSeq;
      sessionStorage.setItem('hemma.alerts.after', lastSeq);
    }
    if (alerts.length) {
      show(alerts);
      if (caughtUp) for (const listener of listeners) listener(alerts);
    }
    caughtUp = true;
    $('alerts').dataset.caughtUp = 'true';
  } catch (error) {
    // Not for this role, or no such route on this server: stop asking.
    if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
      running = false;
      return;
    }
  }
  if (running) timer = setTimeout(poll, kPollMs);
}

function describe(alert) {
  const who = alert.patientName || alert.patientId;
  if (alert.kind === 'URGENT_MESSAGE') {
    return `Urgent message about ${who}${alert.authorName ? ` from ${alert.authorName}` : ''}: ${alert.text || ''}`;
  }
  const point = alert.news2 || {};
  return `${who}: NEWS2 ${point.score ?? '?'}, ${riskLabel(point.risk)} risk` +
    `${alert.authorName ? `, recorded by ${alert.authorName}` : ''}`;
}

function show(alerts) {
  const region = $('alerts');
  for (const alert of alerts) {
    const level = alert.kind === 'URGENT_MESSAGE' || (alert.news2 && alert.news2.risk === 'NEWS2_HIGH') ? 'high' : 'medium';
    const item = h('div', {class: `alert alert-${level}`, dataset: {patient: alert.patientId, kind: alert.kind || ''}},
      h('p', {}, h('strong', {}, alert.kind === 'URGENT_MESSAGE' ? 'Urgent message. ' : 'NEWS2 alert. '),
        describe(alert), ' ', h('time', {datetime: alert.at}, when(alert.at))),
      h('a', {href: `#/patients/${enc(alert.patientId)}`}, `Open ${alert.patientName || alert.patientId}`),
      h('button', {type: 'button', class: 'secondary', onclick: () => item.remove()}, 'Dismiss'));
    region.prepend(item);
  }
  while (region.children.length > kShown) region.lastElementChild.remove();
}
