// The service's own API, from the page's origin: every call is a POST of JSON to a
// current-generation path, with the credential auth.js keeps. An answer that is not a
// 2xx becomes an ApiError whose text says what happened and what to do.

import { authorize, mode } from './auth.js';

/** The API's root: the page lives at <root>console/, behind any stage prefix. */
const root = new URL('../', document.baseURI);

export class ApiError extends Error {
  constructor(message, advice, status, code) {
    super(message);
    this.advice = advice;
    this.status = status;
    this.code = code;
  }
}

/** What to do about an answer, by status and the SpaceONE code. */
function adviceFor(status, code) {
  if (status === 401) return 'Sign in again with a valid, unexpired token.';
  if (status === 403 && !code) {
    return mode === 'jwt'
      ? 'The API refused the token: sign in again with a token for this API.'
      : 'This API takes IAM-signed (SigV4) requests, which a browser cannot make: deploy it with ReadAuthorizer=JwtAuthorizer to use the console.';
  }
  if (status === 403) return 'The credential does not give access to this domain: check the domain_id or the token.';
  if (status === 404) return 'It may have been deleted meanwhile: reload the list.';
  if (status === 413 || code === 'ERROR_INVALID_ARGUMENT') return 'Change the filters (a narrower time range, fewer fields) and try again.';
  if (status === 429 || status === 503) return 'The service is busy or storage did not answer: try again in a few seconds.';
  if (status >= 500) return 'The service failed; try again, and if it repeats, look up the request in the service logs.';
  return 'Check the request and try again.';
}

async function post(path, payload) {
  const { headers, body } = authorize(payload);
  let response;
  try {
    response = await fetch(new URL(path, root), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError('The API could not be reached.', 'Check that the service is running and the network is up, then try again.', 0);
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const error = answer?.error;
    const message = error?.message || answer?.message || `The API answered ${response.status} ${response.statusText}.`;
    throw new ApiError(message, adviceFor(response.status, error?.code), response.status, error?.code);
  }
  if (answer === null) throw new ApiError('The API answered something that is not JSON.', adviceFor(500), response.status);
  return answer;
}

export const OPEN = ['TRIGGERED', 'ACKNOWLEDGED', 'ERROR'];

/** A page of alerts: `states` narrows them; `next_token` '' asks for the first page. */
export function listAlerts(states, nextToken = '', limit = 25) {
  const filter = states.length ? [{ k: 'state', v: states, o: 'in' }] : [];
  const query = { filter, sort: { key: 'created_at', desc: true }, page: { limit } };
  return post('monitoring/v1/alert/list', { query, next_token: nextToken });
}

export const getAlert = (alertId) => post('monitoring/v1/alert/get', { alert_id: alertId });

export const updateAlertState = (alertId, state) => post('monitoring/v1/alert/update', { alert_id: alertId, state });

/** Open alerts per project (the Alert API's stat). */
export function openAlertsPerProject() {
  return post('monitoring/v1/alert/stat', {
    query: {
      filter: [{ k: 'state', v: OPEN, o: 'in' }],
      aggregate: [
        { group: { keys: [{ key: 'project_id', name: 'project_id' }], fields: [{ name: 'count', operator: 'count' }] } },
        { sort: { key: 'count', desc: true } },
      ],
    },
  });
}

/** How many events an alert has: a count on the alert's own index, no events read. */
export async function countAlertEvents(alertId) {
  const answer = await post('monitoring/v1/event/list', { alert_id: alertId, query: { count_only: true } });
  return answer.total_count;
}

/** A page of events; `fields` are EventQuery's exact-match fields, `query` a Query. */
export const listEvents = (fields, query, nextToken = '') => post('monitoring/v1/event/list', { ...fields, query, next_token: nextToken });

export const getEvent = (eventId) => post('monitoring/v1/event/get', { event_id: eventId });

/** Events per time bucket and severity over `filter` (from rollups where they serve). */
export function eventsPerSeverity(filter, dateFormat) {
  return post('monitoring/v1/event/stat', {
    query: {
      filter,
      aggregate: [
        {
          group: {
            keys: [
              { key: 'created_at', name: 'bucket', date_format: dateFormat },
              { key: 'severity', name: 'severity' },
            ],
            fields: [{ name: 'count', operator: 'count' }],
          },
        },
      ],
    },
  });
}

export const listWebhooks = (nextPage = {}) => post('monitoring/v1/webhook/list', { query: { sort: { key: 'name' } }, ...nextPage });

/** `enable` or `disable`. */
export const setWebhookState = (webhookId, verb) => post(`monitoring/v1/webhook/${verb}`, { webhook_id: webhookId });

/** A webhook's URL as senders use it (the API answers a path; the key is never in it). */
export const webhookAddress = (path) => new URL(path.replace(/^\//, ''), root).href;
