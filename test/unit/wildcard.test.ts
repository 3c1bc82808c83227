import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileEventPattern, InvalidEventPatternError } from '#lib/local/event-pattern.js';
import {
  MAX_WILDCARD_COMPLEXITY,
  matchWildcard,
  parseWildcard,
  wildcardComplexity,
} from '#lib/local/wildcard.js';

/** The straightforward reference: the glob as an anchored regular expression (backtracking). */
function referenceMatch(pattern: string, value: string): boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '\\') source += `\\${pattern[++i]}`;
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 'u').test(value);
}

// Valid patterns over a small alphabet, so stars, repeats and escapes collide often.
const patternArb = fc
  .array(fc.constantFrom('a', 'a', 'b', '*', '*', '\\*', '\\\\'), { maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((pattern) => {
    try {
      parseWildcard(pattern);
      return true;
    } catch {
      return false;
    }
  });
const valueArb = fc.array(fc.constantFrom('a', 'b', '*', '\\'), { maxLength: 12 }).map((c) => c.join(''));

describe('matchWildcard', () => {
  it('agrees with the regular-expression reference on short inputs', () => {
    fc.assert(
      fc.property(patternArb, valueArb, (pattern, value) => {
        expect(matchWildcard(parseWildcard(pattern), value)).toBe(referenceMatch(pattern, value));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with the reference when the value is built to match', () => {
    fc.assert(
      fc.property(patternArb, fc.array(valueArb, { maxLength: 6 }), (pattern, fills) => {
        // Replace each star with a fill: the value matches by construction.
        const { segments } = parseWildcard(pattern);
        const value = segments.map((s, i) => (i === 0 ? s : `${fills[i] ?? ''}${s}`)).join('');
        expect(matchWildcard(parseWildcard(pattern), value)).toBe(true);
        expect(referenceMatch(pattern, value)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with the reference on near misses (a matching value with a piece cut out)', () => {
    fc.assert(
      fc.property(
        patternArb,
        fc.array(valueArb, { maxLength: 6 }),
        fc.nat(),
        fc.nat(3),
        (pattern, fills, at, cut) => {
          const { segments } = parseWildcard(pattern);
          const full = segments.map((s, i) => (i === 0 ? s : `${fills[i] ?? ''}${s}`)).join('');
          const start = full.length === 0 ? 0 : at % full.length;
          const value = full.slice(0, start) + full.slice(start + cut);
          expect(matchWildcard(parseWildcard(pattern), value)).toBe(referenceMatch(pattern, value));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('does not backtrack: a pattern with many stars against a long non-matching value answers', () => {
    const value = 'a'.repeat(1 << 16);
    expect(matchWildcard(parseWildcard('*a*a*a*a*b'), value)).toBe(false);
    expect(matchWildcard(parseWildcard('*a*a*a*a*a'), value)).toBe(true);
  });

  it('keeps the prefix and the suffix apart (they may not overlap)', () => {
    expect(matchWildcard(parseWildcard('ab*ba'), 'aba')).toBe(false);
    expect(matchWildcard(parseWildcard('ab*ba'), 'abba')).toBe(true);
  });
});

describe('wildcardComplexity', () => {
  // Expected values from aws/event-ruler's MachineComplexityEvaluatorTest and ByteMachineTest.
  const vectors: ReadonlyArray<readonly [readonly string[], number]> = [
    [['*'], 1],
    [['abc'], 1],
    [['*ab'], 2],
    [['*aa'], 3],
    [['a*b'], 2],
    [['aa*'], 2],
    [['a*bc'], 2],
    [['a*bb'], 3],
    [['a*bcb'], 3],
    [['a*bbb'], 4],
    [['*ab*ad'], 4],
    [['*ab*d'], 3],
    [['*', 'ab*c'], 3],
    [['12*3*'], 3],
    [['1*2345'], 2],
  ];
  for (const [patterns, expected] of vectors) {
    it(`${JSON.stringify(patterns)} has complexity ${expected} (as event-ruler counts it)`, () => {
      expect(wildcardComplexity(patterns.map(parseWildcard))).toBe(expected);
    });
  }
});

describe('compileEventPattern wildcard complexity', () => {
  it('refuses a pattern whose wildcards are too complex, naming the field', () => {
    const tooComplex = `*${'a'.repeat(MAX_WILDCARD_COMPLEXITY)}`;
    try {
      compileEventPattern({ detail: { name: [{ wildcard: tooComplex }] } });
      expect.fail('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventPatternError);
      expect((error as InvalidEventPatternError).path).toBe('$.detail.name[0].wildcard');
      expect((error as Error).message).toMatch(/Rule is too complex/);
    }
  });

  it('adds up the wildcards of one field across $or branches', () => {
    const half = `*${'a'.repeat(MAX_WILDCARD_COMPLEXITY / 2)}`;
    expect(() => compileEventPattern({ k: [{ wildcard: half }] })).not.toThrow();
    expect(() =>
      compileEventPattern({ $or: [{ k: [{ wildcard: half }] }, { k: [{ wildcard: `${half}a` }] }] }),
    ).toThrow(/Rule is too complex/);
  });

  it('accepts the issue example *a*a*a*a*b and answers on a long value', () => {
    const matcher = compileEventPattern({ k: [{ wildcard: '*a*a*a*a*b' }] });
    expect(matcher({ k: 'a'.repeat(4096) })).toBe(false);
    expect(matcher({ k: `${'a'.repeat(4096)}b` })).toBe(true);
  });
});
