// The JSON API (docs/api.md): fetch with the session's token, and errors
// turned into sentences a person can act on.

let token = sessionStorage.getItem('hemma.token');
let onSessionEnded = () => {};

export function setToken(value) {
  token = value;
  if (value) sessionStorage.setItem('hemma.token', value);
  else sessionStorage.removeItem('hemma.token');
}
export function hasToken() {
  return Boolean(token);
}
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

export class ApiError extends Error {
  constructor(status, serverMessage, path) {
    super(serverMessage || `HTTP ${status}`);
    this.status = status;
    this.serverMessage = serverMessage;
    this.path = path;
  }
}

export async function api(method, path, body, extraHeaders = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: Object.assign({Accept: 'application/json'},
        body !== undefined ? {'Content-Type': 'application/json'} : {},
        token ? {Authorization: `Bearer ${token}`} : {}, extraHeaders),
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, '', path);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new ApiError(response.status, answer.error || '', path);
    if (response.status === 401 && path !== '/api/v1/login') onSessionEnded(error);
    throw error;
  }
  return answer;
}

export const get = (path, headers) => api('GET', path, undefined, headers);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

export const enc = encodeURIComponent;

// The sentences for each kind of failure, in English; the patient's view
// passes its own translations (i18n.js, keys error.*).
const kEnglish = {
  'error.network': 'The server could not be reached. Check the connection and try again.',
  'error.login': 'The username or password is wrong. Check them and try again.',
  'error.400': 'The server could not accept this. Check what you entered.',
  'error.401': 'You are not logged in, or your session has ended. Please log in again.',
  'error.403': 'You do not have permission to do this.',
  'error.404': 'This could not be found. It may have been removed, or the link is wrong.',
  'error.405': 'This action is not available here.',
  'error.413': 'This is too large to send.',
  'error.429': 'Too many failed attempts. Wait a few minutes before you try again.',
  'error.500': 'Something went wrong on the server. Nothing was changed; try again.',
  'error.other': 'Something went wrong.',
  'error.server_said': 'The server said:',
};

// "The username or password is wrong. ... (The server said: login: wrong ...)"
export function plainWords(error, translate = (key) => kEnglish[key]) {
  if (!(error instanceof ApiError)) return `${translate('error.other')} ${error.message || ''}`.trim();
  let key;
  if (error.status === 0) key = 'error.network';
  else if (error.status === 401 && error.path === '/api/v1/login') key = 'error.login';
  else if ([400, 401, 403, 404, 405, 413, 429].includes(error.status)) key = `error.${error.status}`;
  else if (error.status >= 500) key = 'error.500';
  else key = 'error.other';
  const sentence = translate(key);
  return error.serverMessage ? `${sentence} (${translate('error.server_said')} ${error.serverMessage})` : sentence;
}
