import { describe, expect, it } from 'vitest';
import { concentration } from '#lib/rules/kinds/concentration.js';
import { input, only, rule, snapshot } from './fixtures.js';

// A long/short book: Σw = 1, Σ|w| = 1.6, Σw² = 0.94, max |w| = 0.7 (a).
const book = snapshot({ weights: { a: 0.7, b: 0.6, c: -0.3 }, constraints: { max_leverage: 2 } });

describe('concentration', () => {
  it('max_weight is the largest |w|, naming its strategy', () => {
    const m = only(
      concentration.measure(rule({ kind: 'concentration', measure: 'max_weight', limit: 0.5 }), input(book)),
    );
    expect(m.value).toBeCloseTo(0.7, 12);
    expect(m.evidence).toMatchObject({ max_weight_strategy: 'a', max_leverage: 2 });
  });

  it('herfindahl is Σw² and gross_leverage Σ|w| (0.49 + 0.36 + 0.09 = 0.94; 0.7 + 0.6 + 0.3 = 1.6)', () => {
    const h = only(
      concentration.measure(rule({ kind: 'concentration', measure: 'herfindahl', limit: 0.5 }), input(book)),
    );
    expect(h.value).toBeCloseTo(0.94, 12);
    const g = only(
      concentration.measure(
        rule({ kind: 'concentration', measure: 'gross_leverage', limit: 1.5 }),
        input(book),
      ),
    );
    expect(g.value).toBeCloseTo(1.6, 12);
    expect(g.evidence).toMatchObject({ max_leverage: 2, net_exposure: 1 });
  });

  it('omits max_leverage from the evidence when the hub did not send a number', () => {
    const snap = snapshot({ weights: { a: 1 }, constraints: { max_leverage: 'lots' } });
    const g = only(
      concentration.measure(
        rule({ kind: 'concentration', measure: 'gross_leverage', limit: 1.5 }),
        input(snap),
      ),
    );
    expect(g.evidence).not.toHaveProperty('max_leverage');
  });

  it('carries the exact smallest cut: only the over-target weights for max_weight', () => {
    const m = only(
      concentration.measure(
        rule({ kind: 'concentration', measure: 'max_weight', limit: 0.65, target: 0.5 }),
        input(book),
      ),
    );
    // a: 0.7 → 0.5 (cut 2/7), b: 0.6 → 0.5 (cut 1/6), c untouched.
    expect(m.uniformSizing!.ratios).toEqual({
      a: expect.closeTo(2 / 7, 12),
      b: expect.closeTo(1 / 6, 12),
    });
    expect(m.uniformSizing!.after).toBe(0.5);
  });

  it('sizes Σw² by 1 − √(target/H) and Σ|w| by 1 − target/L, each restoring the target', () => {
    const h = only(
      concentration.measure(rule({ kind: 'concentration', measure: 'herfindahl', limit: 0.5 }), input(book)),
    );
    const r = h.uniformSizing!.ratios.a!;
    expect((0.7 * (1 - r)) ** 2 + (0.6 * (1 - r)) ** 2 + (0.3 * (1 - r)) ** 2).toBeCloseTo(0.5, 12);
    const g = only(
      concentration.measure(
        rule({ kind: 'concentration', measure: 'gross_leverage', limit: 1.2 }),
        input(book),
      ),
    );
    expect(g.uniformSizing!.ratios).toEqual({ a: 0.25, b: 0.25, c: 0.25 });
    expect(concentration.homogeneous).toBe(false);
  });

  it('has no sizing when within the target', () => {
    const m = only(
      concentration.measure(rule({ kind: 'concentration', measure: 'max_weight', limit: 0.9 }), input(book)),
    );
    expect(m.uniformSizing).toBeUndefined();
  });

  it('measures |wᵢ| per strategy in strategy scope; the world measures are unavailable there', () => {
    const m = concentration.measure(
      rule({ kind: 'concentration', measure: 'max_weight', limit: 0.5, scope: 'strategy' }),
      input(book),
    );
    expect(m.map((x) => [x.scopeKey, x.value])).toEqual([
      ['a', 0.7],
      ['b', 0.6],
      ['c', 0.3],
    ]);
    expect(m[0]!.uniformSizing).toEqual({ ratios: { a: expect.closeTo(2 / 7, 12) }, after: 0.5 });
    const h = concentration.measure(
      rule({ kind: 'concentration', measure: 'herfindahl', limit: 0.5, scope: 'strategy' }),
      input(book),
    );
    expect(h.every((x) => x.value === null && /world measure/.test(x.unavailable ?? ''))).toBe(true);
  });
});
