import { describe, expect, it } from 'vitest';
import { type CovarianceScan, scanCovarianceMap } from '#lib/contracts/covariance-map.js';
import { placeCovarianceEntries, scanCovarianceMapText } from '#lib/contracts/covariance-text.js';
import { mulberry32 } from '#lib/prng.js';

// The covariance map read from its JSON text must give exactly what JSON.parse + scanCovarianceMap
// (the straightforward path) gives: the same doubles bit for bit, the same problems and conflicts,
// or null (the caller then takes that path itself).

/** The straightforward path: JSON.parse, then the one-pass scan of the parsed object. */
function reference(text: string, ids: readonly string[]): CovarianceScan {
  return scanCovarianceMap(JSON.parse(text) as Record<string, unknown>, ids);
}

function fast(text: string, ids: readonly string[]): CovarianceScan | null {
  const scanned = scanCovarianceMapText(text);
  return scanned && placeCovarianceEntries(scanned, ids);
}

/** Bits, not values: -0 and 0 differ, as do two NaNs with different payloads. */
const bits = (m: Float64Array) => Array.from(new BigUint64Array(m.buffer, m.byteOffset, m.length));

function expectSame(got: CovarianceScan | null, want: CovarianceScan): void {
  expect(got).not.toBeNull();
  expect(bits(got!.matrix)).toEqual(bits(want.matrix));
  expect(Array.from(got!.seen)).toEqual(Array.from(want.seen));
  expect(got!.problems).toEqual(want.problems);
  expect(got!.conflicts).toEqual(want.conflicts);
}

/** Number tokens that stress string-to-double: extremes, subnormals, exponents, long mantissas, halfway cases. */
const EDGE_TOKENS = [
  '0',
  '-0',
  '0.0',
  '-0.0e5',
  '1e-300',
  '5e-324',
  '4.9406564584124654e-324',
  '2.4703282292062327e-324',
  '2.2250738585072014e-308',
  '2.2250738585072011e-308',
  '1.7976931348623157e308',
  '1.7976931348623158e308',
  '1e400',
  '-1e400',
  '1E+2',
  '1e-2',
  '12.5E-3',
  '0.1',
  '0.30000000000000004',
  '123456789012345',
  '1234567890123456',
  '9007199254740993',
  '123456789012345678901234567890',
  '0.000000000000000000000000000123456789',
  '1.00000000000000011102230246251565404236316680908203125',
  '1.00000000000000011102230246251565404236316680908203124',
  '4.35',
  '8.41e21',
  '8.41e22',
  '8.41e23',
  '1e22',
  '1e23',
  '999999999999999e-22',
  '999999999999999e-23',
  '3e-0000000000000000005',
  '1e000000000000000000001',
];

/** A random decimal token of the JSON grammar: sign, 1–25 digits, optional fraction and exponent. */
function randomToken(rand: () => number): string {
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(rand() * 10)).join('');
  const intPart = rand() < 0.4 ? '0' : `${1 + Math.floor(rand() * 9)}${digits(Math.floor(rand() * 12))}`;
  const frac = rand() < 0.7 ? `.${digits(1 + Math.floor(rand() * 20))}` : '';
  const exp =
    rand() < 0.4
      ? `${rand() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(rand() * 3)]}${Math.floor(rand() * 330)}`
      : '';
  return `${rand() < 0.3 ? '-' : ''}${intPart}${frac}${exp}`;
}

/** A map's text over `ids` with every pair once, random spelling, order, spacing and numbers. */
function randomMapText(rand: () => number, ids: readonly string[]): string {
  const entries: string[] = [];
  for (let i = 0; i < ids.length; i++)
    for (let j = i; j < ids.length; j++) {
      const [a, b] = rand() < 0.3 ? [ids[j], ids[i]] : [ids[i], ids[j]];
      const sep = rand() < 0.2 ? ':' : ',';
      const r = rand();
      const value =
        r < 0.25
          ? EDGE_TOKENS[Math.floor(rand() * EDGE_TOKENS.length)]!
          : r < 0.5
            ? randomToken(rand)
            : JSON.stringify((rand() - 0.3) * 10 ** -Math.floor(rand() * 8));
      entries.push(`"${a}${sep}${b}"${rand() < 0.5 ? '' : ' '}:${rand() < 0.5 ? '' : ' '}${value}`);
    }
  for (let k = entries.length - 1; k > 0; k--) {
    const swap = Math.floor(rand() * (k + 1));
    [entries[k], entries[swap]] = [entries[swap]!, entries[k]!];
  }
  const space = ['', ' ', '\n  ', '\t', '\r\n'][Math.floor(rand() * 5)]!;
  return `${space}{${space}${entries.join(`,${space}`)}${space}}${space}`;
}

describe('scanCovarianceMapText + placeCovarianceEntries', () => {
  it('reads every edge number to the same double as JSON.parse', () => {
    for (const token of EDGE_TOKENS) {
      const got = fast(`{"a,a": ${token}}`, ['a']);
      const want = reference(`{"a,a": ${token}}`, ['a']);
      expectSame(got, want);
      if (Number.isFinite(JSON.parse(token))) expect(Object.is(got!.matrix[0], JSON.parse(token))).toBe(true);
    }
  });

  it('reads random number tokens bit-identically to JSON.parse', () => {
    const rand = mulberry32(20261201);
    const tokens = Array.from({ length: 50_000 }, () => randomToken(rand));
    const scanned = scanCovarianceMapText(`{${tokens.map((t, k) => `"a,${k}":${t}`).join(',')}}`);
    expect(scanned?.count).toBe(tokens.length);
    const want = Float64Array.from(tokens, (t) => JSON.parse(t) as number);
    const differ = tokens.filter((_, k) => !Object.is(scanned!.values[k], want[k]));
    expect(differ).toEqual([]);
  });

  it('gives the same matrix, seen pairs, problems and conflicts as JSON.parse + scanCovarianceMap on random maps', () => {
    const rand = mulberry32(7);
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 9);
      const ids = Array.from({ length: n }, (_, i) => (rand() < 0.2 ? `s:${i}` : `s${i}-${round % 7}`));
      // Keys naming ids with a ':' must use ',' (as parsePairKey reads them); the generator does
      // by giving such ids only when the key's separator is ','; otherwise both paths fall back alike.
      const text = randomMapText(rand, ids);
      // The weights: the map's ids shuffled, sometimes one missing (unknown strategy) or one extra (missing pairs).
      const weights = [...ids].sort(() => rand() - 0.5);
      if (rand() < 0.2 && n > 1) weights.pop();
      if (rand() < 0.2) weights.push('extra');
      const want = reference(text, weights);
      const got = fast(text, weights);
      if (got === null) {
        // Only a key the fast scanner does not read exactly: an id with ':' under a ':' separator.
        expect(text).toMatch(/"s:\d+:|:s:\d+"/);
        continue;
      }
      expectSame(got, want);
      compared++;
    }
    // Most maps take the fast path (the fallbacks are not what is being compared).
    expect(compared).toBeGreaterThan(150);
  });

  it('agrees on duplicates: agreeing and disagreeing spellings of a pair, and the same key twice', () => {
    const ids = ['a', 'b'];
    for (const text of [
      '{"a,a": 1, "b,b": 2, "a,b": 0.5, "b,a": 0.5}',
      '{"a,a": 1, "b,b": 2, "a,b": 0.5, "b:a": 0.5000000000000001}',
      '{"a,a": 1, "b,b": 2, "a,b": 0.5, "a:b": 0.6}',
      '{"a,a": 1, "a:a": 1, "b,b": 2, "b,a": -0.25, "a,b": -0.25}',
    ])
      expectSame(fast(text, ids), reference(text, ids));
    // The same key twice: JSON.parse keeps the last value, so the scan hands over to it.
    expect(fast('{"a,a": 1, "b,b": 2, "a,b": 0.5, "a,b": 0.7}', ids)).toBeNull();
    expect(fast('{"a,a": 1, "b,b": 2, "a,z": 0.5, "a,z": 0.7}', ids)).toBeNull();
  });

  it('reports unknown strategies and non-finite values by key, like the parsed path', () => {
    const text = '{"a,a": 1, "a,zed": 0.1, "q:r": 2, "b,b": 1e999, "a,b": 0.2}';
    const got = fast(text, ['a', 'b']);
    expectSame(got, reference(text, ['a', 'b']));
    expect(got!.problems.map((p) => [p.key, p.unknown, p.finite])).toEqual([
      ['a,zed', ['zed'], true],
      ['q:r', ['q', 'r'], true],
      ['b,b', [], false],
    ]);
    // Missing pairs are left unseen for the caller to name, as the parsed path does.
    expect(Array.from(got!.seen)).toEqual([1, 1, 1, 0]);
  });

  it('hands anything unusual to JSON.parse (null) and reads the empty map', () => {
    for (const text of [
      '',
      '[]',
      '{"a,a": "0.1"}',
      '{"a,a": null}',
      '{"a,a": [1]}',
      '{"a\\u002ca": 1}',
      '{"a, a": 1}',
      '{"a,a,a": 1}',
      '{"a:b:c": 1}',
      '{",a": 1}',
      '{"a,": 1}',
      '{"ab": 1}',
      '{"a,a": 1,}',
      '{"a,a": 01}',
      '{"a,a": 1.}',
      '{"a,a": .5}',
      '{"a,a": +1}',
      '{"a,a": 1e}',
      '{"a,a": NaN}',
      '{"a,a": Infinity}',
      '{"a,a": 1} x',
      '{"a,a": 1',
      '{"a,a" 1}',
      '{"é,a": 1}',
      '{"ids": ["a"], "upper": [1]}',
    ])
      expect(scanCovarianceMapText(text), text).toBeNull();
    expectSame(fast(' {} ', ['a']), reference(' {} ', ['a']));
  });
});
