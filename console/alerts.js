// Open alerts first: state, severity, title, project, webhook, age and event count,
// with Acknowledge and Resolve where the Alert API allows them (a resolved alert can
// be neither; TRIGGERED and ERROR can be acknowledged). A change redraws its row from
// the API's answer.

import * as api from './api.js';
import { action, age, badge, h, show, when } from './dom.js';

const CHOICES = { open: api.OPEN, RESOLVED: ['RESOLVED'], all: [] };

let notify = () => {};
let body;
let more;
let choice;
let nextToken = '';

export function mount(container, report) {
  notify = report;
  choice = h(
    'select',
    { id: 'alert-state', onchange: () => refresh().catch(notify) },
    h('option', { value: 'open' }, 'Open (triggered, acknowledged, error)'),
    h('option', { value: 'RESOLVED' }, 'Resolved'),
    h('option', { value: 'all' }, 'All'),
  );
  body = h('tbody');
  more = action('More alerts', () => load(false).catch(notify), { hidden: true });
  show(
    container,
    h('div', { class: 'toolbar' },
      h('h2', {}, 'Alerts'),
      h('label', {}, 'Show ', choice),
      action('Refresh', () => refresh().catch(notify)),
    ),
    h('table', { id: 'alerts-table' },
      h('thead', {}, h('tr', {}, ...['State', 'Severity', 'Title', 'Project', 'Webhook', 'Age', 'Events', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
    more,
  );
}

export async function refresh() {
  nextToken = '';
  await load(true);
}

async function load(first) {
  const answer = await api.listAlerts(CHOICES[choice.value], nextToken);
  const rows = answer.results.map(row);
  if (first) show(body, rows.length ? rows : h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No alerts here.')));
  else body.append(...rows);
  nextToken = answer.next_token || '';
  more.hidden = !nextToken;
  notify(null);
}

function row(alert) {
  const tr = h('tr', { 'data-alert-id': alert.alert_id });
  fill(tr, alert);
  return tr;
}

function fill(tr, alert) {
  const count = h('td', { class: 'count' }, '…');
  api.countAlertEvents(alert.alert_id).then(
    (n) => { count.textContent = String(n); },
    () => { count.textContent = '?'; count.title = 'The count could not be read.'; },
  );
  show(
    tr,
    h('td', {}, badge('state', alert.state)),
    h('td', {}, badge('severity', alert.severity)),
    h('td', {}, h('span', { class: 'title' }, alert.title), alert.status_message ? h('div', { class: 'muted' }, alert.status_message) : null),
    h('td', {}, alert.project_id),
    h('td', { class: 'id' }, alert.webhook_id),
    h('td', {}, h('time', { datetime: alert.created_at, title: when(alert.created_at) }, age(alert.created_at))),
    count,
    h('td', { class: 'actions' }, ...actions(tr, alert)),
  );
}

function actions(tr, alert) {
  const buttons = [];
  const change = (state) => async () => {
    try {
      fill(tr, await api.updateAlertState(alert.alert_id, state));
      notify(null);
    } catch (error) {
      notify(error);
    }
  };
  if (alert.state === 'TRIGGERED' || alert.state === 'ERROR') {
    buttons.push(action('Acknowledge', change('ACKNOWLEDGED'), { 'aria-label': `Acknowledge ${alert.title}` }));
  }
  if (alert.state !== 'RESOLVED') {
    buttons.push(action('Resolve', change('RESOLVED'), { 'aria-label': `Resolve ${alert.title}` }));
  }
  return buttons;
}
