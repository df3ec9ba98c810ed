// Small DOM helpers. Text always goes in as text nodes, never as HTML, so
// patient data cannot inject markup.

// h('button', {type: 'button', onclick: f}, 'Save') -> <button>
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value' || name === 'checked' || name === 'selected') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

export const $ = (id) => document.getElementById(id);

let nextId = 0;
// A unique id for label/aria wiring.
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// <label>Text <input ...></label> with the input's own attributes.
export function field(label, input, hint) {
  const id = input.id || uid('f');
  input.id = id;
  const parts = [h('label', {for: id}, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute('aria-describedby', hintId);
    parts.push(h('span', {class: 'hint', id: hintId}, hint));
  }
  return h('div', {class: 'field'}, parts);
}

export function select(options, value, attrs) {
  return h('select', attrs || {},
    options.map(([optionValue, label]) => h('option', {value: optionValue, selected: optionValue === value}, label)));
}

let locale = 'en-GB';
export function setLocale(tag) {
  locale = {sv: 'sv-SE', fi: 'fi-FI', en: 'en-GB'}[tag] || tag;
}

// "22 Nov 2026, 10:40" in the page's language; the raw value if unparsable.
export function when(rfc3339) {
  if (!rfc3339) return '';
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return new Intl.DateTimeFormat(locale, {dateStyle: 'medium', timeStyle: 'short'}).format(date);
}

export function timeTag(rfc3339) {
  return h('time', {datetime: rfc3339}, when(rfc3339));
}

// Today's date as YYYY-MM-DD in local time, plus `days`.
export function isoDate(days = 0) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// Organisation names learnt from answers that carry them (timeline, access
// log, schedule, board); ids stand in until a name is known.
const organisationNames = new Map();
export function learnOrganisation(id, name) {
  if (id && name) organisationNames.set(id, name);
}
export function organisationName(id) {
  return organisationNames.get(id) || id || '';
}
export function knownOrganisations() {
  return [...organisationNames.keys()];
}

export function section(title, ...children) {
  const id = uid('s');
  return h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, title), children);
}

export function empty(text) {
  return h('p', {class: 'empty'}, text);
}
