// The console's frame: sign-in, the four views and the notice line. Each view is a
// module with `mount(container, notify)` (called once) and `refresh()`.

import * as auth from './auth.js';
import { h, show } from './dom.js';
import * as alerts from './alerts.js';
import * as events from './events.js';
import * as chart from './chart.js';
import * as webhooks from './webhooks.js';

const views = { alerts, events, chart, webhooks };
const notice = document.getElementById('notice');
const main = document.getElementById('main');

/** Shows what went wrong and what to do; `null` clears it. */
function notify(error) {
  if (!error) {
    show(notice);
    notice.hidden = true;
    return;
  }
  const advice = error.advice ? h('p', {}, error.advice) : null;
  const code = error.code ? h('p', { class: 'code' }, `${error.status} ${error.code}`) : null;
  show(notice, h('p', { class: 'message' }, error.message || String(error)), advice, code);
  notice.hidden = false;
}

let current = null;

function open(name) {
  for (const button of document.querySelectorAll('nav button')) {
    button.setAttribute('aria-current', button.dataset.view === name ? 'page' : 'false');
  }
  for (const section of main.querySelectorAll('section[data-view]')) section.hidden = section.dataset.view !== name;
  current = name;
  notify(null);
  views[name].refresh().catch(notify);
}

function signIn() {
  const form = document.getElementById('sign-in');
  const input = form.querySelector('input');
  form.querySelector('label span').textContent = auth.prompt.label;
  form.querySelector('.hint').textContent = auth.prompt.hint;
  input.type = auth.prompt.type;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      auth.remember(input.value);
      input.value = '';
      started();
    } catch (error) {
      notify(error);
    }
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    auth.forget();
    location.reload();
  });
  form.querySelector('fieldset').disabled = false;
}

function started() {
  document.body.classList.toggle('signed-in', Boolean(auth.credential()));
  document.getElementById('who').textContent = auth.describe();
  if (auth.credential()) open(current || 'alerts');
}

function boot() {
  signIn();
  for (const [name, view] of Object.entries(views)) {
    view.mount(main.querySelector(`section[data-view="${name}"]`), notify);
  }
  for (const button of document.querySelectorAll('nav button')) {
    button.addEventListener('click', () => open(button.dataset.view));
  }
  started();
}

boot();
