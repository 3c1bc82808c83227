import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import '#lib/contracts/zod-messages.js';
import { isoDateTime } from '#lib/contracts/zod-shared.js';

/**
 * zod-messages.ts builds the English message tables on the first issue instead of at load. Every
 * message must read as `config(en())` writes it: the same issues are formatted under both and compared.
 */

const configured = z.config().localeError;
afterEach(() => {
  z.config({ localeError: configured });
});

/** Schemas raising every kind of issue the contracts can raise, each with zod's default message. */
const schema = z.looseObject({
  text: z.string().check(z.minLength(2), z.maxLength(4)),
  pattern: z.string().check(z.regex(/^s3:\/\/.+/)),
  time: isoDateTime({ offset: true }),
  count: z.number().check(z.int(), z.gte(1), z.lte(10)),
  ratio: z.number().check(z.gt(0), z.lt(1), z.multipleOf(0.25)),
  literal: z.literal('1.0'),
  kind: z.enum(['a', 'b']),
  flag: z.boolean(),
  list: z.array(z.number()).check(z.minLength(1), z.maxLength(2)),
  map: z.record(z.string(), z.number()),
  either: z.union([z.array(z.number()), z.record(z.string(), z.unknown())]),
  strict: z.optional(z.strictObject({ a: z.string() })),
  tagged: z.optional(
    z.discriminatedUnion('k', [z.object({ k: z.literal('x') }), z.object({ k: z.literal('y') })]),
  ),
});

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    'a',
    'abcdef',
    's3://b/k',
    '2026-12-01T00:00:00Z',
    '2026-12-01',
    0,
    1.5,
    11,
    -1,
    0.3,
    2 ** 60,
  ),
  fc.constantFrom({ a: 1 }, { a: 'x', b: 2 }, { k: 'z' }, [], [1, 2, 3], ['x'], { x: 'y' }),
);

const messages = (input: unknown) => {
  const result = z.safeParse(schema, input);
  return result.success ? [] : result.error.issues.map((issue) => [issue.path, issue.message]);
};

describe('zod-messages', () => {
  it('formats every issue as config(en()) does', () => {
    let issues = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(schema.shape)), value), (input) => {
        const lazy = messages(input);
        z.config(en());
        const eager = messages(input);
        z.config({ localeError: configured });
        expect(lazy).toStrictEqual(eager);
        issues += lazy.length;
      }),
      { numRuns: 400 },
    );
    expect(issues).toBeGreaterThan(1000);
  });

  it('names no message the English locale would not', () => {
    // Without any locale zod falls back to "Invalid input": the configured one must not.
    const result = z.safeParse(z.number(), 'x');
    expect(result.success ? [] : result.error.issues.map((i) => i.message)).toStrictEqual([
      'Invalid input: expected number, received string',
    ]);
  });
});
