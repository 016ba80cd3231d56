/**
 * Finds every Schema Object of an OpenAPI 3.1 document by position (not by guessing from shape) and
 * checks each against the keywords a schema may hold there. A YAML slip such as an unquoted comma in
 * a flow mapping (`{ type: integer, description: A, b. }` → description "A" plus a key "b.") turns
 * the rest of a sentence into a "keyword"; JSON Schema ignores unknown keywords, so nothing else
 * would notice.
 *
 * Positions of schemas: OpenAPI 3.1.0 "Components Object" (schemas), "Parameter Object" and
 * "Header Object" (schema, content), "Media Type Object" (schema, encoding), "Encoding Object"
 * (headers), "Request Body Object", "Response Object", "Callback Object", "Path Item Object",
 * "Operation Object"; within a schema, the subschema keywords of JSON Schema 2020-12 Core §10
 * (applicator vocabulary), §11 (unevaluated) and §8.2.4 ($defs), and of JSON Schema Validation
 * 2020-12 §8.5 (contentSchema).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON Pointer token (RFC 6901 §3). */
const token = (k: string | number) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');

/** Keywords a Schema Object may hold: the JSON Schema 2020-12 vocabularies plus the OpenAPI 3.1 base vocabulary. */
export const SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  // JSON Schema 2020-12 Core §8: core vocabulary.
  '$schema', '$vocabulary', '$id', '$anchor', '$dynamicAnchor', '$ref', '$dynamicRef', '$defs', '$comment',
  // Core §10: applicator vocabulary.
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas',
  'prefixItems', 'items', 'contains', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames',
  // Core §11: unevaluated vocabulary.
  'unevaluatedItems', 'unevaluatedProperties',
  // JSON Schema Validation 2020-12 §6: validation vocabulary.
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains',
  'maxProperties', 'minProperties', 'required', 'dependentRequired',
  // Validation §7 (format annotation), §8 (content), §9 (meta-data).
  'format',
  'contentEncoding', 'contentMediaType', 'contentSchema',
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples',
  // OpenAPI 3.1.0 "Schema Object": the OAS base vocabulary.
  'discriminator', 'xml', 'externalDocs', 'example',
]);

/** Specification extensions (OpenAPI 3.1.0 "Specification Extensions"). */
const isExtension = (k: string) => k.startsWith('x-');

const ONE_SUBSCHEMA = ['not', 'if', 'then', 'else', 'items', 'contains', 'additionalProperties', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs'];

export interface SchemaSite {
  /** JSON Pointer of the schema in the document. */
  pointer: string;
  schema: unknown;
  /** True for a schema placed by the OpenAPI document (not a subschema of another schema). */
  root: boolean;
}

/** Every schema of `doc`, the roots (OpenAPI positions) and all their subschemas. */
export function findSchemas(doc: Json): SchemaSite[] {
  const out: SchemaSite[] = [];

  const schema = (node: unknown, at: string, root: boolean): void => {
    out.push({ pointer: at, schema: node, root });
    if (!isObject(node)) return; // a boolean schema, or a wrong value the checks report
    for (const k of ONE_SUBSCHEMA) if (k in node) schema(node[k], `${at}/${token(k)}`, false);
    for (const k of SUBSCHEMA_LISTS) {
      const list = node[k];
      if (Array.isArray(list)) list.forEach((s, i) => schema(s, `${at}/${k}/${i}`, false));
    }
    for (const k of SUBSCHEMA_MAPS) {
      const map = node[k];
      if (isObject(map)) for (const [name, s] of Object.entries(map)) schema(s, `${at}/${token(k)}/${token(name)}`, false);
    }
  };

  const each = (map: unknown, at: string, fn: (v: unknown, at: string) => void) => {
    if (isObject(map)) for (const [k, v] of Object.entries(map)) fn(v, `${at}/${token(k)}`);
  };
  const list = (arr: unknown, at: string, fn: (v: unknown, at: string) => void) => {
    if (Array.isArray(arr)) arr.forEach((v, i) => fn(v, `${at}/${i}`));
  };
  // A Reference Object in a non-schema position points at a component, which is walked in place.
  const isRef = (v: unknown) => isObject(v) && typeof v.$ref === 'string';

  const mediaTypes = (content: unknown, at: string) =>
    each(content, at, (mt, a) => {
      if (!isObject(mt)) return;
      if ('schema' in mt) schema(mt.schema, `${a}/schema`, true);
      each(mt.encoding, `${a}/encoding`, (enc, e) => {
        if (isObject(enc)) each(enc.headers, `${e}/headers`, header);
      });
    });
  const parameter = (p: unknown, at: string) => {
    if (!isObject(p) || isRef(p)) return;
    if ('schema' in p) schema(p.schema, `${at}/schema`, true);
    mediaTypes(p.content, `${at}/content`);
  };
  const header = parameter; // a Header Object holds schema/content like a Parameter Object
  const requestBody = (b: unknown, at: string) => {
    if (isObject(b) && !isRef(b)) mediaTypes(b.content, `${at}/content`);
  };
  const response = (r: unknown, at: string) => {
    if (!isObject(r) || isRef(r)) return;
    each(r.headers, `${at}/headers`, header);
    mediaTypes(r.content, `${at}/content`);
  };
  const callback = (c: unknown, at: string) => {
    if (isObject(c) && !isRef(c)) each(c, at, pathItem);
  };
  const operation = (op: unknown, at: string) => {
    if (!isObject(op)) return;
    list(op.parameters, `${at}/parameters`, parameter);
    requestBody(op.requestBody, `${at}/requestBody`);
    each(op.responses, `${at}/responses`, response);
    each(op.callbacks, `${at}/callbacks`, callback);
  };
  function pathItem(item: unknown, at: string): void {
    if (!isObject(item) || isRef(item)) return;
    list(item.parameters, `${at}/parameters`, parameter);
    for (const m of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']) if (m in item) operation(item[m], `${at}/${m}`);
  }

  each(doc.paths, '#/paths', pathItem);
  each(doc.webhooks, '#/webhooks', pathItem);
  const c = doc.components;
  if (isObject(c)) {
    each(c.schemas, '#/components/schemas', (s, a) => schema(s, a, true));
    each(c.parameters, '#/components/parameters', parameter);
    each(c.headers, '#/components/headers', header);
    each(c.requestBodies, '#/components/requestBodies', requestBody);
    each(c.responses, '#/components/responses', response);
    each(c.callbacks, '#/components/callbacks', callback);
    each(c.pathItems, '#/components/pathItems', pathItem);
  }
  return out;
}

/** The JSON Schema 2020-12 meta-schema checks keyword values. */
const metaAjv = new Ajv2020({ strict: false, allErrors: true });

export interface SchemaProblem {
  pointer: string;
  message: string;
}

/** Keywords outside JSON Schema 2020-12 / OpenAPI 3.1, keyword values the 2020-12 meta-schema rejects, and patterns that are no regular expression. */
export function checkSchemas(doc: Json): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const site of findSchemas(doc)) {
    const s = site.schema;
    if (typeof s === 'boolean') continue; // JSON Schema 2020-12 Core §4.3.2
    if (!isObject(s)) {
      problems.push({ pointer: site.pointer, message: `a schema must be an object or a boolean, got ${JSON.stringify(s)}` });
      continue;
    }
    for (const k of Object.keys(s)) {
      if (!SCHEMA_KEYWORDS.has(k) && !isExtension(k)) problems.push({ pointer: site.pointer, message: `unknown keyword ${JSON.stringify(k)}` });
    }
    // `pattern` and `patternProperties` are ECMA-262 regular expressions (Validation §6.3.3, Core
    // §10.3.2.2); the meta-schema only annotates them (format "regex"), and Ajv compiles them with
    // the `u` flag, as the service's validators will.
    const regexes: Array<[string, string]> = Object.keys(isObject(s.patternProperties) ? s.patternProperties : {}).map((r) => [`patternProperties/${token(r)}`, r]);
    if (typeof s.pattern === 'string') regexes.push(['pattern', s.pattern]);
    for (const [where, re] of regexes) {
      try {
        new RegExp(re, 'u');
      } catch (err) {
        problems.push({ pointer: `${site.pointer}/${where}`, message: `not a regular expression: ${(err as Error).message}` });
      }
    }
    // The meta-schema descends into subschemas itself: check the roots only.
    if (site.root && !metaAjv.validateSchema(s)) {
      for (const e of metaAjv.errors ?? []) problems.push({ pointer: site.pointer + e.instancePath, message: `meta-schema: ${e.message ?? e.keyword}` });
    }
  }
  return problems;
}
