/**
 * The EventBridge schema registry takes OpenAPI 3 or JSON Schema draft 4, while our schemas (and
 * upstream's) are draft 2020-12. The keywords they use translate one for one: `const` becomes a
 * one-value `enum`, numeric `exclusiveMinimum`/`exclusiveMaximum` become draft 4's boolean form
 * beside `minimum`/`maximum`, `$id` becomes `id`, and draft-6+ annotations (`examples`) are dropped.
 * Anything else untranslatable fails synth rather than deploying a schema that means less.
 */
const UNSUPPORTED = [
  '$defs',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'prefixItems',
  'unevaluatedProperties',
  'contains',
  'propertyNames',
];

export function toDraft4(schema: unknown, path = '$'): unknown {
  if (Array.isArray(schema)) return schema.map((item, i) => toDraft4(item, `${path}[${i}]`));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (UNSUPPORTED.includes(key))
      throw new Error(`${path}.${key}: no draft-4 equivalent for the schema registry`);
    switch (key) {
      case '$schema':
        out.$schema = 'http://json-schema.org/draft-04/schema#';
        break;
      case '$id':
        out.id = value;
        break;
      case 'const':
        out.enum = [value];
        break;
      case 'examples':
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') {
          out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
          out[key] = true;
        } else out[key] = value;
        break;
      case 'properties':
      case 'patternProperties':
        out[key] = Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([name, sub]) => [
            name,
            toDraft4(sub, `${path}.${key}.${name}`),
          ]),
        );
        break;
      default:
        out[key] = typeof value === 'object' ? toDraft4(value, `${path}.${key}`) : value;
    }
  }
  return out;
}
