// The domain's webhooks: state, format, project, requests, and the URL to copy (the
// header-key form the API answers: the access key is shown once at creation, never
// here). Enable and disable where the state allows it.

import * as api from './api.js';
import { action, badge, h, show, when } from './dom.js';

let notify = () => {};
let body;

export function mount(container, report) {
  notify = report;
  body = h('tbody');
  show(
    container,
    h('div', { class: 'toolbar' }, h('h2', {}, 'Webhooks'), action('Refresh', () => refresh().catch(notify))),
    h('p', { class: 'muted' }, 'A sender puts the webhook\'s access key in an "Authorization: Bearer" header; the key was shown once, when the webhook was made (eventctl webhook rotate-key issues a new one).'),
    h('table', { id: 'webhooks-table' },
      h('thead', {}, h('tr', {}, ...['Name', 'State', 'Format', 'Project', 'Events (errors)', 'Created', 'URL', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
  );
}

export async function refresh() {
  const answer = await api.listWebhooks();
  show(body, answer.results.length ? answer.results.map(row) : h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'This domain has no webhooks.')));
  notify(null);
}

function row(webhook) {
  const tr = h('tr', { 'data-webhook-id': webhook.webhook_id });
  fill(tr, webhook);
  return tr;
}

function fill(tr, webhook) {
  const url = api.webhookAddress(webhook.webhook_url);
  const field = h('input', { type: 'text', readonly: true, value: url, 'aria-label': `URL of ${webhook.name}`, class: 'url', size: 30 });
  const copy = action('Copy URL', async () => {
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = 'Copied';
    } catch {
      field.select();
      copy.textContent = 'Press Ctrl+C';
    }
  }, { 'aria-label': `Copy the URL of ${webhook.name}` });
  const verb = webhook.state === 'ENABLED' ? 'disable' : 'enable';
  const toggle = action(verb === 'disable' ? 'Disable' : 'Enable', async () => {
    try {
      fill(tr, await api.setWebhookState(webhook.webhook_id, verb));
      notify(null);
    } catch (error) {
      notify(error);
    }
  }, { 'aria-label': `${verb === 'disable' ? 'Disable' : 'Enable'} ${webhook.name}` });
  const requests = webhook.requests || {};
  show(
    tr,
    h('td', {}, webhook.name, h('div', { class: 'id' }, webhook.webhook_id)),
    h('td', {}, badge('state', webhook.state)),
    h('td', {}, webhook.format || webhook.plugin_info?.plugin_id || ''),
    h('td', {}, webhook.project_id),
    h('td', {}, `${requests.total ?? '?'} (${requests.error ?? '?'})`),
    h('td', {}, when(webhook.created_at)),
    h('td', {}, field, ' ', copy),
    h('td', { class: 'actions' }, toggle),
  );
}
