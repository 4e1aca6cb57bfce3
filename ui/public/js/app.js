/**
 * The single page: a login form until there is a session, then a navigation bar and one view at a
 * time, chosen by the URL hash (#/search, #/tail, #/dashboard, #/alerts, #/pipeline). Each view's
 * `mount(container)` returns an `unmount()` that stops its timers and streams.
 */
import { api, describeError, login, session } from './api.js';
import { h, notice, replace } from './dom.js';
import * as alerts from './views/alerts.js';
import * as dashboard from './views/dashboard.js';
import * as pipeline from './views/pipeline.js';
import * as search from './views/search.js';
import * as tail from './views/tail.js';

const VIEWS = [
  { path: 'search', label: 'Search', view: search },
  { path: 'tail', label: 'Live tail', view: tail },
  { path: 'dashboard', label: 'Dashboard', view: dashboard },
  { path: 'alerts', label: 'Alerts', view: alerts },
  { path: 'pipeline', label: 'Pipeline', view: pipeline },
];

const root = document.getElementById('app');
let unmount = null;

function stopView() {
  try {
    unmount?.();
  } finally {
    unmount = null;
  }
}

function currentPath() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  return VIEWS.some((v) => v.path === path) ? path : 'search';
}

function showLogin(message) {
  stopView();
  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    placeholder: 'admin',
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const status = h('div', { class: 'login-status' });
  if (message) status.append(notice('info', message));
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'login-form',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        replace(status);
        try {
          await login(username.value.trim(), password.value);
          showApp();
        } catch (err) {
          replace(status, notice('error', describeError(err)));
          password.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, h('span', { class: 'logo' }, 'LogFlow')),
    h('p', { class: 'muted' }, 'Sign in to search, tail and chart your logs.'),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Username'), username),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Password'), password),
    status,
    button,
  );
  replace(root, h('main', { class: 'login-page' }, form));
  (username.value ? password : username).focus();
}

function logout() {
  session.clear();
  showLogin('Signed out.');
}

function showApp() {
  const current = session.get();
  if (!current) return showLogin();
  const nav = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Views' },
    VIEWS.map((v) => h('a', { href: `#/${v.path}`, dataset: { view: v.path } }, v.label)),
  );
  const user = current.user ?? {};
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'logo', href: '#/search' }, 'LogFlow'),
    nav,
    h(
      'div',
      { class: 'user' },
      h('span', { class: 'user-name', title: `role: ${user.role ?? 'unknown'}` }, user.username ?? ''),
      user.role ? h('span', { class: ['role', `role-${user.role}`] }, user.role) : null,
      h('a', { class: 'docs-link', href: '/docs', target: '_blank', rel: 'noopener' }, 'API docs'),
      h('button', { type: 'button', class: 'link', onclick: logout }, 'Sign out'),
    ),
  );
  const main = h('main', { class: 'view' });
  replace(root, header, main);
  route(main, nav);
}

function route(main = root.querySelector('main.view'), nav = root.querySelector('nav.tabs')) {
  if (!main || !session.get()) return;
  stopView();
  const path = currentPath();
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === path);
  const def = VIEWS.find((v) => v.path === path);
  document.title = `${def.label} · LogFlow`;
  const container = h('section', { class: ['view-body', `view-${path}`] });
  replace(main, container);
  unmount = def.view.mount(container) ?? null;
}

window.addEventListener('hashchange', () => route());
window.addEventListener('logflow:unauthorized', () => showLogin('Your session ended; please sign in again.'));

// A stored token may have been revoked (user deleted, secret rotated): check it before showing data.
if (session.get()) {
  api('GET', '/auth/me')
    .then(() => showApp())
    .catch((err) => (session.get() ? showApp() : showLogin(describeError(err))));
} else showLogin();
