// The filters people use, as form controls, turned into what the API takes: EventQuery's
// exact-match fields and created_at bounds. Choices are limited to what the API accepts
// (its severities and event types), and a range that ends before it starts is refused
// here, in words, before any call.

import { h } from './dom.js';

export const SEVERITIES = ['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'NOT_AVAILABLE'];
export const EVENT_TYPES = ['ALERT', 'RECOVERY', 'ERROR'];

/** Time ranges: the label, how far back it reaches (ms), and the chart's bucket. */
export const RANGES = {
  '1h': { label: 'Last hour', back: 3600e3, bucket: 'hour' },
  '24h': { label: 'Last 24 hours', back: 86400e3, bucket: 'hour' },
  '7d': { label: 'Last 7 days', back: 7 * 86400e3, bucket: 'day' },
  '30d': { label: 'Last 30 days', back: 30 * 86400e3, bucket: 'day' },
  custom: { label: 'From … to …', back: null, bucket: 'day' },
};

export function select(id, label, options, value) {
  const control = h('select', { id, name: id }, ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return { control, field: h('label', { for: id }, label, ' ', control) };
}

export function input(id, label, attrs = {}) {
  const control = h('input', { id, name: id, ...attrs });
  return { control, field: h('label', { for: id }, label, ' ', control) };
}

/** A range picker: a choice of ranges, and two times shown for `custom`. */
export function rangePicker(prefix, initial) {
  const range = select(`${prefix}-range`, 'Time', Object.entries(RANGES).map(([k, r]) => [k, r.label]), initial);
  const from = input(`${prefix}-from`, 'From (UTC)', { type: 'datetime-local' });
  const to = input(`${prefix}-to`, 'To (UTC)', { type: 'datetime-local' });
  const custom = h('span', { class: 'custom-range', hidden: initial !== 'custom' }, from.field, ' ', to.field);
  range.control.addEventListener('change', () => { custom.hidden = range.control.value !== 'custom'; });
  return {
    fields: [range.field, custom],
    value: () => ({ key: range.control.value, from: from.control.value, to: to.control.value }),
  };
}

/** created_at conditions for a picked range, and its bounds; throws when it is empty. */
export function timeFilter({ key, from, to }, now = Date.now()) {
  const range = RANGES[key];
  if (range.back !== null) {
    const start = new Date(now - range.back);
    return { filter: [{ k: 'created_at', v: start.toISOString(), o: 'datetime_gte' }], start, end: new Date(now) };
  }
  const start = from ? new Date(`${from}:00Z`) : null;
  const end = to ? new Date(`${to}:00Z`) : null;
  if (!start || !end) throw new Error('Give both ends of the custom time range.');
  if (end <= start) throw new Error('The time range ends before it starts: pick a "To" after the "From".');
  return {
    filter: [
      { k: 'created_at', v: start.toISOString(), o: 'datetime_gte' },
      { k: 'created_at', v: end.toISOString(), o: 'datetime_lt' },
    ],
    start,
    end,
  };
}
