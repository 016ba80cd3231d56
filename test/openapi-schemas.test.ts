/**
 * Every Schema Object in openapi.yaml holds only JSON Schema 2020-12 / OpenAPI 3.1 keywords with
 * values the 2020-12 meta-schema accepts. Two descriptions cut short by an unquoted comma in a YAML
 * flow mapping once published bogus keywords; the negative cases below re-create them on a copy.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../src/http/openapi.js';
import { checkSchemas, findSchemas } from './support/openapi-schemas.js';

type Json = Record<string, unknown>;
const TEXT = readFileSync(OPENAPI_PATH, 'utf8');
const load = (text: string) => parse(text) as Json;

/** Follow a JSON Pointer (RFC 6901) into `doc`. */
function at(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = Array.isArray(node) ? node[Number(key)] : (node as Json)[key];
    if (node === undefined) throw new Error(`no ${pointer} in the document`);
  }
  return node;
}

/** One schema of each kind of position in our document: where the walker must look. */
const POSITIONS = {
  componentSchema: '#/components/schemas/Session',
  property: '#/components/schemas/Problem/properties/tpmReturnCode',
  items: '#/components/schemas/SessionEventLog/properties/events/items',
  additionalProperties: '#/components/schemas/PcrBanks/properties/banks/additionalProperties',
  nestedAdditionalProperties: '#/components/schemas/ExpectedPcrs/additionalProperties/additionalProperties',
  oneOfBranchProperty: '#/components/schemas/MmioOp/oneOf/2/properties/maxReads',
  componentParameter: '#/components/parameters/SessionId/schema',
  pathItemParameter: '#/paths/~1v1~1sessions~1{id}~1measurements/parameters/1/schema',
  operationParameter: '#/paths/~1v1~1sessions~1{id}~1commands/post/parameters/0/schema',
  responseHeader: '#/paths/~1v1~1sessions/post/responses/201/headers/Location/schema',
  requestJson: '#/paths/~1v1~1event-logs~1verify/post/requestBody/content/application~1json/schema/properties/log',
  requestMultipart: '#/paths/~1v1~1event-logs~1verify/post/requestBody/content/multipart~1form-data/schema/properties/pcrs',
  responseBody: '#/paths/~1healthz/get/responses/200/content/application~1json/schema/properties/status',
  componentResponse: '#/components/responses/Problem/content/application~1problem+json/schema',
} as const;

describe('openapi.yaml schemas', () => {
  const doc = load(TEXT);
  const sites = findSchemas(doc);
  const pointers = new Set(sites.map((s) => s.pointer));

  it('the walker reaches a schema at every kind of position', () => {
    for (const p of Object.values(POSITIONS)) expect(pointers, p).toContain(p);
    expect(sites.filter((s) => s.root).length).toBeGreaterThan(60);
  });

  it('every value under a `schema` key in the document is one the walker checks', () => {
    const found: string[] = [];
    const scan = (node: unknown, ptr: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => scan(n, `${ptr}/${i}`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          const p = `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
          if (k === 'schema') found.push(p);
          scan(v, p);
        }
      }
    };
    scan(doc, '#');
    expect(found.length).toBeGreaterThan(40);
    expect(found.filter((p) => !pointers.has(p))).toEqual([]);
  });

  it('holds only JSON Schema 2020-12 / OpenAPI 3.1 keywords, with values the meta-schema accepts', () => {
    expect(checkSchemas(doc)).toEqual([]);
  });
});

describe('the schema check fails on a broken copy', () => {
  it('the two unquoted-comma descriptions that shipped once', () => {
    const fixes = [
      ["description: 'The TPM return code, when the TPM refused.'", 'description: The TPM return code, when the TPM refused.'],
      ["description: 'The binary log, base64.'", 'description: The binary log, base64.'],
    ] as const;
    let text = TEXT;
    for (const [quoted, unquoted] of fixes) {
      expect(text.split(quoted).length - 1, quoted).toBe(1);
      text = text.replace(quoted, unquoted);
    }
    const broken = load(text);
    // YAML ends the plain scalar at the comma: the description is cut short…
    expect(at(broken, POSITIONS.property)).toMatchObject({ description: 'The TPM return code' });
    // …and the tail becomes a key of the schema.
    expect(checkSchemas(broken)).toEqual([
      { pointer: POSITIONS.requestJson, message: 'unknown keyword "base64."' },
      { pointer: POSITIONS.property, message: 'unknown keyword "when the TPM refused."' },
    ]);
  });

  it('an OpenAPI 3.0 keyword (gone in 3.1) at each kind of position', () => {
    const broken = load(TEXT);
    for (const p of Object.values(POSITIONS)) {
      (at(broken, p) as Json).nullable = true;
    }
    const reported = checkSchemas(broken).map((e) => `${e.pointer} ${e.message}`);
    const expected = Object.values(POSITIONS).map((p) => `${p} unknown keyword "nullable"`);
    expect(reported.sort()).toEqual(expected.sort());
  });

  it('values the 2020-12 meta-schema rejects: a number as a string, an invalid regular expression, a bad type name', () => {
    const broken = load(TEXT);
    (at(broken, POSITIONS.componentParameter) as Json).pattern = '^([A-Z$';
    (at(broken, POSITIONS.oneOfBranchProperty) as Json).maximum = '10000';
    (at(broken, POSITIONS.responseBody) as Json).type = 'text';
    const reported = checkSchemas(broken).map((e) => e.pointer);
    expect(reported).toContain(`${POSITIONS.componentParameter}/pattern`);
    expect(reported).toContain('#/components/schemas/MmioOp/oneOf/2/properties/maxReads/maximum');
    expect(reported.some((p) => p.startsWith('#/paths/~1healthz/get/responses/200/content/application~1json/schema/properties/status/type'))).toBe(true);
  });

  it('accepts specification extensions and boolean schemas', () => {
    const copy = load(TEXT);
    (at(copy, POSITIONS.componentSchema) as Json)['x-internal'] = true;
    (at(copy, '#/components/schemas/TisState') as Json).additionalProperties = true;
    (at(copy, '#/components/schemas/Problem') as Json).additionalProperties = false;
    expect(checkSchemas(copy)).toEqual([]);
  });
});
