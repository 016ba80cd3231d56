/**
 * JSON request bodies with a budget: before JSON.parse sees a body, one linear scan counts its
 * members and elements and its nesting depth, and refuses a body past MAX_JSON_MEMBERS or 64
 * levels. Parsing and validating a million tiny members costs seconds of event loop for a body well
 * inside the byte limit; the scan costs a few milliseconds and stops at the first member too many.
 * Prototype-poisoning keys are refused as Fastify's own parser does (secure-json-parse).
 */
import sjson from 'secure-json-parse';
import { DomainError } from '../errors.js';

export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Why `text` is over budget, or undefined when it is within it. */
export function overBudget(text: string, maxMembers: number, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let members = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump over the string with native searches: a quote ends it unless an odd run of
      // backslashes precedes it. An unterminated string is left for JSON.parse to report.
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return undefined;
        let backslashes = 0;
        for (let k = q - 1; k > i && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
        if (backslashes % 2 === 0) {
          i = q;
          break;
        }
        from = q + 1;
      }
    } else if (c === COMMA || c === COLON) {
      if (++members > maxMembers) return `the JSON body has more than ${maxMembers} members and elements (MAX_JSON_MEMBERS)`;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return `the JSON body nests deeper than ${maxDepth} levels`;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** Fastify content-type parser body for application/json. */
export function parseJsonBody(text: string, maxMembers: number): unknown {
  if (text.length === 0) throw new DomainError('invalid-request', 'the JSON body is empty');
  const why = overBudget(text, maxMembers);
  if (why) throw new DomainError('payload-too-large', why, { maxMembers });
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (e) {
    throw new DomainError('invalid-request', `the body is not valid JSON: ${(e as Error).message}`);
  }
}
