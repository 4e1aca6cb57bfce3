/**
 * The API client: the session token (sessionStorage: gone when the tab closes), JSON calls with
 * the Bearer header, the error shape {code, message, details}, and the live-tail stream.
 * A 401 ends the session everywhere: listeners of `logflow:unauthorized` show the login form.
 */
import { createSseParser } from './sse.js';

const API = '/api/v1';
const SESSION_KEY = 'logflow.session';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'LF_ERR_HTTP';
    this.details = body?.details ?? null;
  }
}

export const session = {
  /** { token, expires_at, user: { username, role } } or null. */
  get() {
    try {
      const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
      if (!value?.token) return null;
      if (value.expires_at && Date.parse(value.expires_at) <= Date.now()) return null;
      return value;
    } catch {
      return null;
    }
  },
  save(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
  isAdmin() {
    return this.get()?.user?.role === 'admin';
  },
};

function unauthorized() {
  session.clear();
  window.dispatchEvent(new CustomEvent('logflow:unauthorized'));
}

/** `?a=1&b=x,y` from an object; undefined, null, '' and empty arrays are left out. */
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length) q.set(key, value.join(','));
    } else q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not the API's JSON error shape (a proxy page, say): keep the status.
  }
  return new ApiError(response.status, body);
}

/** Calls `/api/v1${path}`; resolves to the JSON body (null for 204), rejects with ApiError. */
export async function api(method, path, { body, query, signal } = {}) {
  const token = session.get()?.token;
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${API}${path}${queryString(query)}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (response.status === 401 && path !== '/auth/login') unauthorized();
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export async function login(username, password) {
  const result = await api('POST', '/auth/login', { body: { username, password } });
  session.save({ token: result.token, expires_at: result.expires_at, user: result.user });
  return result;
}

/** The Prometheus text of GET /metrics (public). */
export async function fetchPrometheusText(signal) {
  const response = await fetch('/metrics', { headers: { accept: 'text/plain' }, signal });
  if (!response.ok) throw await errorOf(response);
  return response.text();
}

/**
 * Follows GET /api/v1/logs/tail until `signal` aborts or the server ends the stream; each SSE
 * event goes to `onEvent`. Resolves when the stream ends, rejects on HTTP errors (401 included,
 * after ending the session) and network failures other than the abort.
 */
export async function followTail(filters, { signal, onEvent, onOpen }) {
  const token = session.get()?.token;
  const response = await fetch(`${API}/logs/tail${queryString(filters)}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token ?? ''}` },
    signal,
    cache: 'no-store',
  });
  if (response.status === 401) unauthorized();
  if (!response.ok || !response.body) throw await errorOf(response);
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const push = createSseParser(onEvent);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      push(value);
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** A message for an ApiError with validation details ("/threshold: must be ≤ 1"). */
export function describeError(err) {
  if (!(err instanceof ApiError)) return err?.message ?? String(err);
  const issues = Array.isArray(err.details)
    ? err.details
        .map((d) => [d.path, d.message].filter(Boolean).join(': '))
        .filter(Boolean)
        .join('; ')
    : '';
  return issues ? `${err.message} (${issues})` : err.message;
}
