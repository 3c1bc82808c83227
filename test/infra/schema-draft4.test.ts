import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { toDraft4 } from '#infra/schema-draft4.js';
import { PUBLISHED_SCHEMAS } from '#infra/stateful/stateful-stack.js';

describe('toDraft4 (schema registry translation)', () => {
  it('translates const, numeric exclusive bounds, $id, $schema and drops examples', () => {
    const out = toDraft4({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://x/y.json',
      type: 'object',
      properties: {
        v: { const: '1.0' },
        vix: { type: 'number', exclusiveMinimum: 0, examples: [20] },
        r: { type: 'number', minimum: 0, maximum: 1 },
      },
    });
    expect(out).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      id: 'https://x/y.json',
      type: 'object',
      properties: {
        v: { enum: ['1.0'] },
        vix: { type: 'number', minimum: 0, exclusiveMinimum: true },
        r: { type: 'number', minimum: 0, maximum: 1 },
      },
    });
  });

  it('refuses a keyword draft 4 cannot express, naming where it is', () => {
    expect(() => toDraft4({ properties: { a: { if: { type: 'string' } } } })).toThrow(
      '$.properties.a.if: no draft-4 equivalent',
    );
  });

  it('leaves no draft-6+ keyword in any schema we publish', () => {
    for (const type of PUBLISHED_SCHEMAS) {
      const text = JSON.stringify(
        toDraft4(JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas', `${type}.schema.json`), 'utf8'))),
      );
      expect(text).not.toMatch(/"const"|"\$id"|"examples"|"exclusiveMinimum":\d/);
      expect(text).toContain('"$schema":"http://json-schema.org/draft-04/schema#"');
    }
  });
});
