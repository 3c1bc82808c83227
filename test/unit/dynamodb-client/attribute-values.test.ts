import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, NumberValueImpl as NumberValue, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromAttributeMap,
  fromWireValue,
  toWireValue,
  type WireAttributeValue,
} from '#lib/adapters/dynamodb/client/attribute-values.js';

/**
 * Our attribute-value conversion against the util-dynamodb it replaced, with the stores' options
 * (`removeUndefinedValues`, top-level containers kept wrapped; numbers unwrapped when read) and the SDK's
 * JSON encoding of binary (base64) done the straightforward way beside it: for random nested values of
 * every type util-dynamodb knows and several it refuses, each gives the same wire value or the same error
 * (class and message); for random wire values, the same JS values.
 */

/** util-dynamodb's marshall as the stores configured it, binary then base64-encoded as the SDK's serializer does. */
function referenceToWire(value: unknown): WireAttributeValue {
  const encode = (v: AttributeValue): WireAttributeValue => {
    if (v.B !== undefined) return { B: base64(v.B) };
    if (v.BS !== undefined) return { BS: v.BS.map(base64) };
    if (v.L !== undefined) return { L: v.L.map(encode) };
    if (v.M !== undefined)
      return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, encode(x)])) };
    return v as unknown as WireAttributeValue;
  };
  return encode(
    marshall(value, { removeUndefinedValues: true, convertTopLevelContainer: true }) as AttributeValue,
  );
}

function base64(bytes: unknown): string {
  if (ArrayBuffer.isView(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (bytes instanceof ArrayBuffer) return Buffer.from(bytes).toString('base64');
  throw new TypeError('not binary');
}

/** The wire value in the SDK's low-level form (binary as plain Uint8Array), for util-dynamodb's unmarshall. */
function lowLevel(value: WireAttributeValue): AttributeValue {
  const [key, inner] = Object.entries(value)[0] ?? [];
  const bytes = (text: unknown) => new Uint8Array(Buffer.from(text as string, 'base64'));
  if (key === 'B') return { B: bytes(inner) };
  if (key === 'BS') return { BS: (inner as string[]).map(bytes) };
  if (key === 'L') return { L: (inner as WireAttributeValue[]).map(lowLevel) };
  if (key === 'M')
    return {
      M: Object.fromEntries(
        Object.entries(inner as Record<string, WireAttributeValue>).map(([k, v]) => [k, lowLevel(v)]),
      ),
    };
  return value as unknown as AttributeValue;
}

function outcome(run: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

class Point {
  x = 1;
}

const bytes = fc.uint8Array({ maxLength: 12 });
const binary = fc.oneof(
  bytes,
  bytes.map((b) => Buffer.from(b)),
  bytes.map((b) => new DataView(b.buffer)),
  bytes.map((b) => b.buffer),
  fc.integer({ min: 0, max: 4 }).map((n) => new Int16Array(n).fill(-3)),
  fc.integer({ min: 0, max: 3 }).map((n) => new Float64Array(n).fill(0.5)),
);
const number = fc.oneof(
  fc.double(), // NaN and ±Infinity included: refused
  fc.maxSafeInteger(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 53, // past the precision limit: refused
    -(2 ** 53),
    1e21,
    -0,
    5e-324,
    0.1 + 0.2,
  ),
);
const scalar = fc.oneof(
  fc.string(),
  fc.constant(''),
  number,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  binary,
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom(
    // Wrapper objects, lib-dynamodb's NumberValue, and what util-dynamodb refuses (a class instance, a date).
    new Boolean(false),
    new Number(7),
    new String('boxed'),
    NumberValue.from('123456789012345678901234567890'),
    new Point(),
    new Date(0),
  ),
);
const set = fc.oneof(
  fc.uniqueArray(fc.string(), { maxLength: 4 }).map((a) => new Set(a)), // empty: refused
  fc.uniqueArray(number, { minLength: 1, maxLength: 4 }).map((a) => new Set(a)),
  fc.uniqueArray(fc.bigInt(), { minLength: 1, maxLength: 3 }).map((a) => new Set(a)),
  fc.array(bytes, { minLength: 1, maxLength: 3 }).map((a) => new Set(a)),
  fc.constantFrom(
    new Set([undefined, 'a']),
    new Set([undefined]),
    new Set([true]), // no such set type: refused
    new Set([1, 'mixed']),
    new Set(['mixed', 2]),
    new Set([NumberValue.from('1'), NumberValue.from('2')]),
  ),
);
// Functions inside containers are skipped (at the top they are refused).
const fn = fc.constant(() => 1);
const { value } = fc.letrec<{ value: unknown }>((tie) => {
  const member = fc.oneof({ weight: 6, arbitrary: tie('value') }, { weight: 1, arbitrary: fn });
  return {
    value: fc.oneof(
      { depthSize: 'small' },
      scalar,
      set,
      fn,
      fc.array(member, { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), member, { maxKeys: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), member, { maxKeys: 3, noNullPrototype: false }),
      fc.array(fc.tuple(fc.string({ maxLength: 4 }), member), { maxLength: 3 }).map((e) => new Map(e)),
    ),
  };
});

/** Number texts as DynamoDB may return them: plain, exponent, past 2^53 (BigInt), past BigInt (refused). */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom('1e20', '1E+400', '-1e400', '12345678901234567890.5', '0.000001', '-0'),
);
const { wire } = fc.letrec<{ wire: WireAttributeValue }>((tie) => ({
  wire: fc.oneof(
    { depthSize: 'small' },
    fc.string().map((S) => ({ S })),
    numberText.map((N) => ({ N })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true }),
    bytes.map((b) => ({ B: Buffer.from(b).toString('base64') })),
    fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 3 }).map((SS) => ({ SS })),
    fc.uniqueArray(numberText, { minLength: 1, maxLength: 3 }).map((NS) => ({ NS })),
    fc
      .array(bytes, { minLength: 1, maxLength: 3 })
      .map((bs) => ({ BS: bs.map((b) => Buffer.from(b).toString('base64')) })),
    fc.array(tie('wire'), { maxLength: 3 }).map((L) => ({ L })),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('wire'), { maxKeys: 3 }).map((M) => ({ M })),
    fc.constantFrom({}, { X: 'unknown type' }),
  ),
}));

describe('attribute values (our marshalling), against util-dynamodb', () => {
  it('marshals random values to the same wire value, or refuses with the same error', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(() => toWireValue(v))).toEqual(outcome(() => referenceToWire(v)));
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses what util-dynamodb refuses, naming the problem', () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      -(2 ** 53),
      new Set(),
      new Set([true]),
      new Date(0),
      undefined,
    ]) {
      const ours = outcome(() => toWireValue({ a: [bad] }));
      expect(ours).toEqual(outcome(() => referenceToWire({ a: [bad] })));
      if (bad !== undefined) expect(ours).toHaveProperty('error');
    }
    expect(outcome(() => toWireValue({ n: Number.NaN }))).toEqual({
      error: 'Error: Special numeric value NaN is not allowed',
    });
  });

  it('unmarshals random wire values to the same JS values (numbers, BigInt, sets, binary), or refuses alike', () => {
    fc.assert(
      fc.property(wire, (w) => {
        expect(outcome(() => fromWireValue(w))).toEqual(
          outcome(() => unmarshall(lowLevel(w) as never, { convertWithoutMapWrapper: true })),
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('reads a low-level item (a refused write’s Item) as util-dynamodb’s unmarshall does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), wire, { maxKeys: 4 }), (item) => {
        const low = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, lowLevel(v)]));
        expect(outcome(() => fromAttributeMap(low))).toEqual(outcome(() => unmarshall(low)));
      }),
      { numRuns: 500 },
    );
  });
});
