// Events: the list with its filters, paged with next_token (each page reads only as
// far as it needs), and one event's detail: its fields, raw_data pretty-printed, and
// the alert it belongs to.

import * as api from './api.js';
import { action, badge, h, show, when } from './dom.js';
import { EVENT_TYPES, SEVERITIES, input, rangePicker, select, timeFilter } from './filters.js';

const PAGE = 50;

let notify = () => {};
let controls;
let body;
let more;
let detail;
let request = null;
let nextToken = '';

export function mount(container, report) {
  notify = report;
  const any = [['', 'Any']];
  controls = {
    severity: select('event-severity', 'Severity', any.concat(SEVERITIES.map((v) => [v, v])), ''),
    event_type: select('event-type', 'Type', any.concat(EVENT_TYPES.map((v) => [v, v])), ''),
    project_id: input('event-project', 'Project', { placeholder: 'project-…', size: 18 }),
    webhook_id: input('event-webhook', 'Webhook', { placeholder: 'webhook-…', size: 18 }),
    keyword: input('event-keyword', 'Keyword', { type: 'search', placeholder: 'title or id', size: 16 }),
    range: rangePicker('event', '24h'),
  };
  const form = h(
    'form',
    { class: 'filters', id: 'event-filters', onsubmit: (e) => { e.preventDefault(); refresh().catch(notify); } },
    controls.severity.field, controls.event_type.field, controls.project_id.field, controls.webhook_id.field,
    controls.keyword.field, ...controls.range.fields,
    h('button', { type: 'submit' }, 'Apply'),
  );
  body = h('tbody');
  more = action('More events', () => load(false).catch(notify), { hidden: true });
  detail = h('aside', { id: 'event-detail', 'aria-label': 'Event detail', hidden: true, tabindex: '-1' });
  show(
    container,
    h('h2', {}, 'Events'),
    form,
    h('div', { class: 'split' },
      h('div', {},
        h('table', { id: 'events-table' },
          h('thead', {}, h('tr', {}, ...['Time', 'Severity', 'Type', 'Title', 'Project', 'Alert'].map((c) => h('th', { scope: 'col' }, c)))),
          body,
        ),
        more,
      ),
      detail,
    ),
  );
}

/** The list request the form describes; throws (in words) when the form is wrong. */
function describe() {
  const fields = {};
  for (const name of ['severity', 'event_type', 'project_id', 'webhook_id']) {
    const value = controls[name].control.value.trim();
    if (value) fields[name] = value;
  }
  const { filter } = timeFilter(controls.range.value());
  const query = { filter, sort: { key: 'created_at', desc: true }, page: { limit: PAGE }, minimal: true };
  const keyword = controls.keyword.control.value.trim();
  if (keyword) query.keyword = keyword;
  return { fields, query };
}

export async function refresh() {
  request = describe();
  nextToken = '';
  await load(true);
}

async function load(first) {
  const answer = await api.listEvents(request.fields, request.query, nextToken);
  const rows = answer.results.map(row);
  if (first) show(body, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No events match these filters.')));
  else body.append(...rows);
  nextToken = answer.next_token || '';
  more.hidden = !nextToken;
  notify(null);
}

function row(event) {
  return h('tr', { 'data-event-id': event.event_id, 'data-severity': event.severity },
    h('td', {}, when(event.created_at)),
    h('td', {}, badge('severity', event.severity)),
    h('td', {}, event.event_type),
    h('td', {}, action(event.title || event.event_id, () => open(event.event_id), { class: 'link' })),
    h('td', {}, event.project_id),
    h('td', { class: 'id' }, event.alert_id || '—'),
  );
}

async function open(eventId) {
  try {
    const event = await api.getEvent(eventId);
    const { raw_data: raw, ...fields } = event;
    show(detail,
      h('div', { class: 'toolbar' }, h('h3', {}, event.title), action('Close', () => { detail.hidden = true; })),
      h('dl', {}, ...Object.entries(fields).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''))])),
      h('h4', {}, 'raw_data'),
      h('pre', { class: 'raw' }, JSON.stringify(raw ?? null, null, 2)),
      h('h4', {}, 'Alert'),
      await alertSummary(event.alert_id),
    );
    detail.hidden = false;
    detail.focus();
    notify(null);
  } catch (error) {
    notify(error);
  }
}

async function alertSummary(alertId) {
  if (!alertId) return h('p', { class: 'muted' }, 'This event belongs to no alert.');
  try {
    const alert = await api.getAlert(alertId);
    return h('p', { class: 'alert-summary' }, badge('state', alert.state), ' ', alert.title, ' ', h('span', { class: 'id' }, alert.alert_id));
  } catch (error) {
    return h('p', { class: 'muted' }, `${alertId}: ${error.message}`);
  }
}
