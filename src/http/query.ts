/**
 * Strict query strings: every name and value must be valid percent-encoded UTF-8 (RFC 3986 §2.1,
 * WHATWG URL application/x-www-form-urlencoded with `+` as space). What a lenient decoder would
 * turn into U+FFFD or keep literally (`%ff%fe`, `%zz`, a lone `%`) is refused instead.
 */
import { DomainError } from '../errors.js';

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new DomainError('invalid-request', `the query string's ${what} ${JSON.stringify(s)} is not valid percent-encoded UTF-8`);
  }
}

/** name → values in order of appearance. */
export function strictQuery(url: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const q = url.indexOf('?');
  if (q < 0) return out;
  for (const pair of url.slice(q + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), 'name');
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1), `value of ${name}`);
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return out;
}
