// Events per severity over the chosen range, per hour or per day, from one event stat
// (rollups answer it for a few read units whatever the range holds), drawn as stacked
// bars in plain SVG; and the open alerts per project from one alert stat. Each bar
// carries its bucket, severity and count, and a table under the chart gives the same
// numbers as text.

import * as api from './api.js';
import { h, s, show } from './dom.js';
import { SEVERITIES, rangePicker, select, timeFilter, RANGES } from './filters.js';

const BUCKETS = {
  hour: { format: '%Y-%m-%dT%H', step: 3600e3, key: (d) => d.toISOString().slice(0, 13) },
  day: { format: '%Y-%m-%d', step: 86400e3, key: (d) => d.toISOString().slice(0, 10) },
};
const MOST_BUCKETS = 800;
const WIDTH = 760;
const HEIGHT = 240;
const PAD = { left: 44, right: 32, top: 10, bottom: 28 };

let notify = () => {};
let range;
let per;
let figure;
let table;
let projects;

export function mount(container, report) {
  notify = report;
  range = rangePicker('chart', '24h');
  per = select('chart-per', 'Per', [['auto', 'Range default'], ['hour', 'Hour'], ['day', 'Day']], 'auto');
  figure = h('figure', { id: 'events-chart' });
  table = h('div', { class: 'chart-table' });
  projects = h('figure', { id: 'projects-chart' });
  show(
    container,
    h('h2', {}, 'Events per severity'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); refresh().catch(notify); } },
      ...range.fields, per.field, h('button', { type: 'submit' }, 'Draw')),
    figure,
    table,
    h('h2', {}, 'Open alerts per project'),
    projects,
  );
}

export async function refresh() {
  const picked = range.value();
  const { filter, start, end } = timeFilter(picked);
  const bucket = BUCKETS[per.control.value === 'auto' ? RANGES[picked.key].bucket : per.control.value];
  const keys = bucketKeys(start, end, bucket);
  if (keys.length > MOST_BUCKETS) {
    throw new Error(`That is ${keys.length} bars: pick "Per day" or a shorter range (at most ${MOST_BUCKETS}).`);
  }
  // What was drawn for the last range must not pass for this one's.
  for (const part of [figure, table, projects]) show(part, h('p', { class: 'muted' }, 'Loading…'));
  const [events, open] = await Promise.all([api.eventsPerSeverity(filter, bucket.format), api.openAlertsPerProject()]);
  const counts = tally(events.results);
  drawEvents(keys, counts);
  drawProjects(open.results);
  notify(null);
}

function bucketKeys(start, end, bucket) {
  const keys = [];
  const first = Math.floor(start.getTime() / bucket.step) * bucket.step;
  for (let t = first; t <= end.getTime(); t += bucket.step) keys.push(bucket.key(new Date(t)));
  return keys;
}

/** { bucket: { severity: count } } from the stat's flat rows. */
function tally(rows) {
  const counts = {};
  for (const row of rows) {
    counts[row.bucket] ??= {};
    counts[row.bucket][row.severity] = (counts[row.bucket][row.severity] || 0) + row.count;
  }
  return counts;
}

function drawEvents(keys, counts) {
  const totals = keys.map((k) => SEVERITIES.reduce((sum, sev) => sum + (counts[k]?.[sev] || 0), 0));
  const top = Math.max(1, ...totals);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / keys.length;
  const bars = [];
  keys.forEach((key, i) => {
    let y = PAD.top + plotH;
    for (const severity of SEVERITIES) {
      const count = counts[key]?.[severity] || 0;
      if (!count) continue;
      const height = (count / top) * plotH;
      y -= height;
      bars.push(s('rect', {
        class: `bar severity-${severity.toLowerCase()}`, x: PAD.left + i * slot + slot * 0.1, y, width: Math.max(1, slot * 0.8), height,
        'data-bucket': key, 'data-severity': severity, 'data-count': count,
      }, s('title', {}, `${key}: ${count} ${severity}`)));
    }
  });
  const every = Math.ceil(keys.length / 8);
  const labels = keys.map((key, i) => (i % every ? null : s('text', { x: PAD.left + i * slot + slot / 2, y: HEIGHT - 8, class: 'axis', 'text-anchor': 'middle' }, label(key))));
  const total = totals.reduce((a, b) => a + b, 0);
  show(figure,
    s('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': `Events per severity: ${total} in all, at most ${top} in one bar` },
      s('line', { x1: PAD.left, y1: PAD.top + plotH, x2: WIDTH - PAD.right, y2: PAD.top + plotH, class: 'axis-line' }),
      s('text', { x: PAD.left - 6, y: PAD.top + 10, class: 'axis', 'text-anchor': 'end' }, String(top)),
      s('text', { x: PAD.left - 6, y: PAD.top + plotH, class: 'axis', 'text-anchor': 'end' }, '0'),
      ...bars, ...labels.filter(Boolean)),
    h('figcaption', {}, ...SEVERITIES.map((sev) => h('span', { class: 'legend' }, h('span', { class: `swatch severity-${sev.toLowerCase()}` }), ` ${sev} `)), ` — ${total} events`),
  );
  const rows = keys.filter((k) => counts[k]).map((k) => h('tr', {}, h('th', { scope: 'row' }, k), ...SEVERITIES.map((sev) => h('td', {}, String(counts[k][sev] || 0)))));
  show(table, rows.length
    ? h('table', { id: 'chart-counts' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Bucket (UTC)'), ...SEVERITIES.map((sev) => h('th', { scope: 'col' }, sev)))), h('tbody', {}, ...rows))
    : h('p', { class: 'empty' }, 'No events in this range.'));
}

/** "12-07 03h" for an hour, "12-07" for a day: the year is in the table below. */
function label(key) {
  const day = key.slice(5, 10);
  return key.length === 13 ? `${day} ${key.slice(11)}h` : day;
}

function drawProjects(rows) {
  if (!rows.length) {
    show(projects, h('p', { class: 'empty' }, 'No open alerts.'));
    return;
  }
  const top = Math.max(...rows.map((r) => r.count));
  const line = 26;
  const height = rows.length * line + 8;
  show(projects, s('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': 'Open alerts per project' },
    ...rows.flatMap((row, i) => [
      s('text', { x: 200, y: i * line + 20, class: 'axis', 'text-anchor': 'end' }, row.project_id || '(none)'),
      s('rect', { class: 'bar project', x: 208, y: i * line + 6, height: line - 8, width: Math.max(2, (row.count / top) * (WIDTH - 260)), 'data-project': row.project_id, 'data-count': row.count }),
      s('text', { x: 214 + (row.count / top) * (WIDTH - 260), y: i * line + 20, class: 'axis' }, String(row.count)),
    ])));
}
