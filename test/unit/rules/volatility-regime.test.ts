import { describe, expect, it } from 'vitest';
import { volatilityRegime } from '#lib/rules/kinds/volatility-regime.js';
import { input, marketView, only, rule, snapshot } from './fixtures.js';

const snap = snapshot({ weights: { a: 0.5, b: 0.5 } });
const fresh = marketView('global', '2025-01-01T00:09:00Z', { vix: 32, vix3m: 25.6 });

describe('volatility_regime', () => {
  it('vix_level reads the VIX of the rule’s market scope', () => {
    const m = only(
      volatilityRegime.measure(
        rule({ kind: 'volatility_regime', measure: 'vix_level', limit: 30 }),
        input(snap, { market: [fresh] }),
      ),
    );
    expect(m.value).toBe(32);
    expect(m.strategies).toEqual(['a', 'b']);
    expect(m.evidence).toMatchObject({
      market_scope: 'global',
      market_as_of: '2025-01-01T00:09:00Z',
      market_age_sec: 60,
      vix: 32,
    });
  });

  it('vix_term_inversion is VIX/VIX3M (32 / 25.6 = 1.25)', () => {
    const m = only(
      volatilityRegime.measure(
        rule({ kind: 'volatility_regime', measure: 'vix_term_inversion', limit: 1.05 }),
        input(snap, { market: [fresh] }),
      ),
    );
    expect(m.value).toBeCloseTo(1.25, 12);
    expect(m.evidence).toMatchObject({ vix: 32, vix3m: 25.6, ratio: 1.25 });
  });

  it('reads a non-default market_scope', () => {
    const eu = marketView('eu', '2025-01-01T00:09:00Z', { vix: 22 });
    const m = only(
      volatilityRegime.measure(
        rule({ kind: 'volatility_regime', measure: 'vix_level', market_scope: 'eu', limit: 30 }),
        input(snap, { market: [fresh, eu] }),
      ),
    );
    expect(m.value).toBe(22);
  });

  it('is unavailable on stale market data (older than marketMaxAgeMs at nowMs)', () => {
    const m = only(
      volatilityRegime.measure(
        rule({ kind: 'volatility_regime', measure: 'vix_level', limit: 30 }),
        input(snap, { market: [fresh], marketMaxAgeMs: 59_000 }),
      ),
    );
    expect(m.value).toBeNull();
    expect(m.unavailable).toMatch(/stale: 60 s old, limit 59 s/);
    // Exactly at the limit is still fresh.
    const edge = only(
      volatilityRegime.measure(
        rule({ kind: 'volatility_regime', measure: 'vix_level', limit: 30 }),
        input(snap, { market: [fresh], marketMaxAgeMs: 60_000 }),
      ),
    );
    expect(edge.value).toBe(32);
  });

  it('is unavailable with no market data, no VIX, or no usable VIX3M', () => {
    const r = rule({ kind: 'volatility_regime', measure: 'vix_term_inversion', limit: 1 });
    expect(only(volatilityRegime.measure(r, input(snap))).unavailable).toMatch(
      /no market data for scope 'global'/,
    );
    const noVix = marketView('global', '2025-01-01T00:09:00Z', { vix3m: 20 });
    expect(only(volatilityRegime.measure(r, input(snap, { market: [noVix] }))).unavailable).toMatch(
      /no 'vix'/,
    );
    const noVix3m = marketView('global', '2025-01-01T00:09:00Z', { vix: 20 });
    expect(only(volatilityRegime.measure(r, input(snap, { market: [noVix3m] }))).unavailable).toMatch(
      /no 'vix3m'/,
    );
    const zero = marketView('global', '2025-01-01T00:09:00Z', { vix: 20, vix3m: 0 });
    expect(only(volatilityRegime.measure(r, input(snap, { market: [zero] }))).unavailable).toMatch(
      /non-positive 'vix3m'/,
    );
  });

  it('repeats the market reading per strategy in strategy scope; not homogeneous', () => {
    const m = volatilityRegime.measure(
      rule({ kind: 'volatility_regime', measure: 'vix_level', limit: 30, scope: 'strategy' }),
      input(snap, { market: [fresh] }),
    );
    expect(m.map((x) => [x.scopeKey, x.value])).toEqual([
      ['a', 32],
      ['b', 32],
    ]);
    expect(volatilityRegime.homogeneous).toBe(false);
  });
});
