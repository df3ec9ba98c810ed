// Hemma's web UI: log in, then each role's pages. Pages are addressed by the
// URL hash (#/patients/patient-01), so the back button and links work.
import {ApiError, api, get, hasToken, plainWords, setToken, whenSessionEnds} from './api.js';
import {$, field, h, learnOrganisation} from './dom.js';
import {clearMessages, fail, setRenderer} from './ui.js';
import {startAlerts, stopAlerts} from './alerts.js';
import {patientsPage, proposalsPage, conflictsPage} from './physician.js';
import {recordPage} from './record.js';
import {boardPage, schedulePage, auditPage} from './coordinator.js';
import {patientHome} from './patient.js';
import {adminPage} from './admin.js';

let me = null;

export function roleOf(principal) {
  if (!principal) return '';
  if (principal.patientId) return 'PATIENT';
  return principal.role || '';
}

const kNav = {
  PHYSICIAN: [['#/patients', 'My patients'], ['#/proposals', 'Plan changes to sign'], ['#/conflicts', 'Conflicts']],
  NURSE: [['#/patients', 'My patients'], ['#/conflicts', 'Conflicts']],
  COORDINATOR: [['#/patients', 'Patients'], ['#/board', 'Board'], ['#/schedule', 'Visit schedule'],
    ['#/audit', 'Access log check'], ['#/conflicts', 'Conflicts']],
  ADMINISTRATOR: [['#/admin', 'Administration']],
  PATIENT: [],
};

const kHome = {PHYSICIAN: '#/patients', NURSE: '#/patients', COORDINATOR: '#/patients',
  ADMINISTRATOR: '#/admin', PATIENT: '#/me'};

function loginPage(message) {
  const username = h('input', {name: 'username', autocomplete: 'username', required: true});
  const password = h('input', {name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const button = h('button', {type: 'submit'}, 'Log in');
  const form = h('form', {class: 'login', 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title', tabindex: '-1'}, 'Log in to Hemma'),
    message ? h('p', {class: 'notice'}, message) : null,
    field('Username', username), field('Password', password), button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    button.disabled = true;
    try {
      const answer = await api('POST', '/api/v1/login', {username: username.value.trim(), password: password.value});
      setToken(answer.token);
      await start();
    } catch (error) {
      fail(error);
      password.select();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function showLogin(message) {
  me = null;
  stopAlerts();
  $('nav').replaceChildren();
  $('who').textContent = '';
  $('logout').hidden = true;
  $('logout').textContent = 'Log out';
  document.documentElement.lang = 'en';
  $('view').replaceChildren(loginPage(message));
  $('view').querySelector('input').focus();
}

function logout() {
  setToken(null);
  clearMessages();
  history.replaceState(null, '', location.pathname);
  showLogin();
}

async function start() {
  me = await get('/api/v1/me');
  const known = await get('/api/v1/organisations');
  for (const o of known.organisations || []) learnOrganisation(o.id, o.name);
  const role = roleOf(me);
  $('who').textContent = role === 'PATIENT' ? me.name : `${me.name} · ${role.toLowerCase()}`;
  $('logout').hidden = false;
  $('nav').replaceChildren(...(kNav[role] || []).map(([href, label]) => h('a', {href}, label)));
  if (role === 'PHYSICIAN' || role === 'NURSE') startAlerts();
  if (!location.hash || location.hash === '#' || !allowed(role, location.hash)) {
    location.hash = kHome[role] || '#/admin';
  } else {
    await render();
  }
}

function allowed(role, hash) {
  const page = hash.split('/')[1];
  if (role === 'PATIENT') return page === 'me';
  if (role === 'ADMINISTRATOR') return page === 'admin';
  return page !== 'me' && page !== 'admin';
}

function pageFor(parts) {
  const [page, id] = parts;
  if (page === 'patients' && id) return () => recordPage(me, id);
  if (page === 'patients') return () => patientsPage(me);
  if (page === 'proposals') return () => proposalsPage(me);
  if (page === 'conflicts') return () => conflictsPage(me);
  if (page === 'board') return () => boardPage(me);
  if (page === 'schedule') return () => schedulePage(me);
  if (page === 'audit') return () => auditPage(me);
  if (page === 'me') return () => patientHome(me);
  if (page === 'admin') return () => adminPage(me);
  return null;
}

let renderCount = 0;
async function render({keepFocus = false} = {}) {
  if (!me) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = pageFor(parts);
  if (!page || !allowed(roleOf(me), location.hash)) {
    location.hash = kHome[roleOf(me)];
    return;
  }
  for (const link of $('nav').querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${parts[0]}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const ticket = ++renderCount;
  const view = $('view');
  view.setAttribute('aria-busy', 'true');
  try {
    const content = await page();
    if (ticket !== renderCount) return;  // a later navigation won
    view.replaceChildren(content);
  } catch (error) {
    if (ticket !== renderCount) return;
    if (error instanceof ApiError && error.status === 401) return;
    view.replaceChildren(h('h1', {tabindex: '-1'}, 'This page could not be shown'),
      h('p', {class: 'error'}, plainWords(error)));
  } finally {
    view.removeAttribute('aria-busy');
  }
  // After a navigation the new page's heading takes the focus, so keyboard
  // and screen reader users start at the top of what changed.
  const heading = view.querySelector('h1');
  if (heading && (!keepFocus || !view.contains(document.activeElement))) heading.focus();
}
setRenderer(render);

window.addEventListener('hashchange', () => {
  clearMessages();
  render();
});
$('logout').addEventListener('click', logout);
whenSessionEnds(() => {
  setToken(null);
  showLogin('Your session has ended. Please log in again.');
});

if (hasToken()) {
  start().catch((error) => {
    setToken(null);
    showLogin(error instanceof ApiError && error.status === 401 ? undefined : plainWords(error));
  });
} else {
  showLogin();
}
