// Who the page speaks for. The page is told by its server how the API authenticates
// reads: `jwt` (the API Gateway JWT authorizer: the token's domain claim decides) or
// `iam` (the local stack, or a trusted backend: the request names its domain_id).
// What the person enters is kept for this tab only (sessionStorage).

const KEY = 'event-console-credential';

export const mode = document.querySelector('meta[name="auth-mode"]')?.content === 'jwt' ? 'jwt' : 'iam';

/** What the sign-in form asks for. */
export const prompt =
  mode === 'jwt'
    ? { label: 'Token (JWT)', hint: 'A token with a domain_id claim, as the API takes it.', type: 'password' }
    : { label: 'domain_id', hint: 'The domain to read, e.g. domain-58010aa2e451.', type: 'text' };

export function credential() {
  return sessionStorage.getItem(KEY) || '';
}

export function remember(value) {
  const trimmed = value.trim().replace(/^Bearer\s+/i, '');
  if (!trimmed) throw new Error(`Enter a ${prompt.label} first.`);
  if (mode === 'iam' && !/^[\w.:-]+$/.test(trimmed)) {
    throw new Error('A domain_id is letters, digits, "-", "_", "." or ":", like domain-58010aa2e451.');
  }
  sessionStorage.setItem(KEY, trimmed);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

/** The headers and body fields that carry the credential of every API call. */
export function authorize(body) {
  const value = credential();
  if (mode === 'jwt') return { headers: { authorization: `Bearer ${value}` }, body };
  return { headers: {}, body: { ...body, domain_id: value } };
}

/** Who the page speaks for, in words. */
export function describe() {
  const value = credential();
  if (!value) return '';
  if (mode === 'iam') return `domain ${value}`;
  try {
    const claims = JSON.parse(atob(value.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return `domain ${claims.domain_id || claims['custom:domain_id'] || '(no domain claim)'}`;
  } catch {
    return 'a token';
  }
}
