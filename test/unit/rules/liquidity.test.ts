import { describe, expect, it } from 'vitest';
import { liquidity } from '#lib/rules/kinds/liquidity.js';
import { input, marketView, only, rule, snapshot } from './fixtures.js';

const AS_OF = '2025-01-01T00:09:00Z';
// 60 periods: spread 10 bp for 55, then 30 bp for the last 5. Short (5) mean 30 bp; long (60) mean
// (55·10 + 5·30)/60 = 700/60 bp → widening 30/(700/60) = 18/7.
const spreadA = [...Array<number>(55).fill(0.001), ...Array<number>(5).fill(0.003)];
const spreadB = Array<number>(60).fill(0.002);
const snap = snapshot({ weights: { a: 0.75, b: 0.25 } });

describe('liquidity', () => {
  it('spread_widening per strategy is short-window over long-window mean spread', () => {
    const view = marketView('global', AS_OF, {}, { a: { spread: spreadA }, b: { spread: spreadB } });
    const m = liquidity.measure(
      rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2, scope: 'strategy' }),
      input(snap, { market: [view] }),
    );
    expect(m[0]).toMatchObject({ scopeKey: 'a', strategies: ['a'] });
    expect(m[0]!.value).toBeCloseTo(18 / 7, 12);
    expect(m[1]!.value).toBeCloseTo(1, 12);
  });

  it('world spread_widening is the |w|-weighted mean of the strategies’ ratios', () => {
    const view = marketView('global', AS_OF, {}, { a: { spread: spreadA }, b: { spread: spreadB } });
    const m = only(
      liquidity.measure(
        rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2 }),
        input(snap, { market: [view] }),
      ),
    );
    expect(m.value).toBeCloseTo(0.75 * (18 / 7) + 0.25 * 1, 12);
    expect(m.evidence).toMatchObject({ covered_weight_share: 1, missing: [] });
  });

  it('honours short_window / long_window', () => {
    // Short 10, long 20 over the last 20: (5·10 + 5·30)/10 = 20 bp over (15·10 + 5·30)/20 = 15 bp.
    const view = marketView('global', AS_OF, {}, { a: { spread: spreadA }, b: { spread: spreadB } });
    const m = liquidity.measure(
      rule({
        kind: 'liquidity',
        measure: 'spread_widening',
        limit: 2,
        short_window: 10,
        long_window: 20,
        scope: 'strategy',
      }),
      input(snap, { market: [view] }),
    );
    expect(m[0]!.value).toBeCloseTo(20 / 15, 12);
  });

  it('reports partial coverage and fails closed when no strategy has data', () => {
    const partial = marketView('global', AS_OF, {}, { a: { spread: spreadA } });
    const m = only(
      liquidity.measure(
        rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2 }),
        input(snap, { market: [partial] }),
      ),
    );
    expect(m.value).toBeCloseTo(18 / 7, 12);
    expect(m.evidence).toMatchObject({ covered_weight_share: 0.75, missing: ['b'] });
    const none = marketView('global', AS_OF, {}, {});
    const n = only(
      liquidity.measure(
        rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2 }),
        input(snap, { market: [none] }),
      ),
    );
    expect(n.value).toBeNull();
  });

  it('is unavailable with a series shorter than long_window', () => {
    const short = marketView('global', AS_OF, {}, { a: { spread: spreadA.slice(0, 30) } });
    const m = liquidity.measure(
      rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2, scope: 'strategy' }),
      input(snap, { market: [short] }),
    );
    expect(m[0]!.unavailable).toMatch(/has 30 values, needs 60/);
  });

  it('amihud_deterioration is mean |r|/DV over the short window over the long window', () => {
    // Long window 4: |r|/DV = 1e-8, 1e-8, 4e-8, 4e-8 → long mean 2.5e-8; short (2) mean 4e-8 → 1.6.
    const view = marketView(
      'global',
      AS_OF,
      {},
      {
        a: { returns: [0.5, 0.01, -0.01, 0.02, -0.02], dollar_volume: [1, 1e6, 1e6, 5e5, 5e5] },
      },
    );
    const m = liquidity.measure(
      rule({
        kind: 'liquidity',
        measure: 'amihud_deterioration',
        limit: 1.5,
        short_window: 2,
        long_window: 4,
        scope: 'strategy',
      }),
      input(snap, { market: [view] }),
    );
    expect(m[0]!.value).toBeCloseTo(1.6, 12);
    expect(m[1]!.unavailable).toMatch(/no 'returns' and 'dollar_volume' series for 'b'/);
  });

  it('adv_utilization takes constraints.adv_util_p95 for the world, without market data', () => {
    const hub = snapshot({ weights: { a: 0.75, b: 0.25 }, constraints: { adv_util_p95: 0.18 } });
    const m = only(
      liquidity.measure(rule({ kind: 'liquidity', measure: 'adv_utilization', limit: 0.1 }), input(hub)),
    );
    expect(m.value).toBe(0.18);
    expect(m.evidence).toMatchObject({ source: 'constraints.adv_util_p95' });
  });

  it('adv_utilization falls back to the latest market adv_util: the worst strategy for the world', () => {
    const view = marketView(
      'global',
      AS_OF,
      {},
      { a: { adv_util: [0.5, 0.05] }, b: { adv_util: [0.01, 0.2] } },
    );
    const m = only(
      liquidity.measure(
        rule({ kind: 'liquidity', measure: 'adv_utilization', limit: 0.1 }),
        input(snap, { market: [view] }),
      ),
    );
    expect(m.value).toBe(0.2);
    expect(m.evidence).toMatchObject({ worst_strategy: 'b', per_strategy: { a: 0.05, b: 0.2 } });
    const per = liquidity.measure(
      rule({ kind: 'liquidity', measure: 'adv_utilization', limit: 0.1, scope: 'strategy' }),
      input(snap, { market: [view] }),
    );
    expect(per.map((x) => x.value)).toEqual([0.05, 0.2]);
  });

  it('reads a per-strategy constraints.adv_util_p95 map', () => {
    const hub = snapshot({ weights: { a: 0.75, b: 0.25 }, constraints: { adv_util_p95: { a: 0.3 } } });
    const per = liquidity.measure(
      rule({ kind: 'liquidity', measure: 'adv_utilization', limit: 0.1, scope: 'strategy' }),
      input(hub),
    );
    expect(per[0]!.value).toBe(0.3);
    expect(per[1]!.unavailable).toMatch(/no market data/);
  });

  it('is unavailable on stale market data, in the rule’s market_scope', () => {
    const old = marketView(
      'eu',
      '2024-12-31T00:00:00Z',
      {},
      { a: { spread: spreadA }, b: { spread: spreadB } },
    );
    const m = only(
      liquidity.measure(
        rule({ kind: 'liquidity', measure: 'spread_widening', limit: 2, market_scope: 'eu' }),
        input(snap, { market: [old] }),
      ),
    );
    expect(m.value).toBeNull();
    expect(m.unavailable).toMatch(/scope 'eu' is stale/);
    expect(liquidity.homogeneous).toBe(false);
  });
});
