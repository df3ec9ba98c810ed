// Page-wide messages and the actions behind buttons and forms.
import {plainWords} from './api.js';
import {$} from './dom.js';

// Success in words (role=status).
export function say(text) {
  $('status').textContent = text || '';
}
// An error in plain words with the server's own message (role=alert).
export function fail(error, translate) {
  $('error').textContent = error instanceof Error ? plainWords(error, translate) : String(error);
}
export function clearMessages() {
  $('status').textContent = '';
  $('error').textContent = '';
}

let renderer = async () => {};
export function setRenderer(fn) {
  renderer = fn;
}
// Draws the current page again with fresh data.
export function refresh() {
  return renderer({keepFocus: true});
}

// Runs an action from a button or form: clears old messages, says the
// outcome, and keeps the button from being pressed twice meanwhile. After a
// change, `after` (default: refresh the page) runs before the success text
// is shown. Returns true when the action succeeded.
export async function act(button, action, done, {after = refresh, translate} = {}) {
  clearMessages();
  if (button) button.disabled = true;
  try {
    await action();
    if (after) await after();
    if (done) say(done);
    return true;
  } catch (error) {
    fail(error, translate);
    return false;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

// Wires a form's submit to act(); `action` gets the form.
export function onSubmit(form, action, done, options) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button[type=submit]'), () => action(form), done, options);
  });
  return form;
}
