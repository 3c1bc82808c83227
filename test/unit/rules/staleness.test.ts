import { describe, expect, it } from 'vitest';
import { MISSING_DATA_AGE_SEC, staleness } from '#lib/rules/kinds/staleness.js';
import { input, marketView, NOW_MS, only, rule, snapshot } from './fixtures.js';

const snap = snapshot({ weights: { a: 0.5, b: 0.5 }, asOf: '2025-01-01T00:00:00Z', ttlSec: 300 });

describe('staleness', () => {
  it('measures the snapshot’s age in seconds (now − as_of) and whether it expired', () => {
    // NOW is 00:10:00, as_of 00:00:00 → 600 s; ttl 300 s → expired.
    const m = only(
      staleness.measure(rule({ kind: 'staleness', source: 'snapshot', limit: 900 }), input(snap)),
    );
    expect(m.value).toBe(600);
    expect(m.evidence).toMatchObject({ source: 'snapshot', age_sec: 600, expired: true });
  });

  it('measures the market scope’s age, whatever `marketMaxAgeMs` says', () => {
    const view = marketView('global', '2025-01-01T00:09:00Z', { vix: 20 });
    const m = only(
      staleness.measure(
        rule({ kind: 'staleness', source: 'market', limit: 30 }),
        input(snap, { market: [view], marketMaxAgeMs: 1 }),
      ),
    );
    expect(m.value).toBe(60);
    expect(m.evidence).toMatchObject({
      market_scope: 'global',
      market_as_of: '2025-01-01T00:09:00Z',
      missing: false,
    });
  });

  it('reads the rule’s market_scope', () => {
    const views = [marketView('global', '2025-01-01T00:09:00Z'), marketView('eu', '2025-01-01T00:05:00Z')];
    const m = only(
      staleness.measure(
        rule({ kind: 'staleness', source: 'market', market_scope: 'eu', limit: 30 }),
        input(snap, { market: views }),
      ),
    );
    expect(m.value).toBe(300);
  });

  it('fails closed on missing market data: a finite, JSON-safe sentinel above any limit', () => {
    const m = only(staleness.measure(rule({ kind: 'staleness', source: 'market', limit: 1e9 }), input(snap)));
    expect(m.value).toBe(MISSING_DATA_AGE_SEC);
    expect(Number.isFinite(m.value)).toBe(true);
    expect(JSON.parse(JSON.stringify(m)).value).toBe(MISSING_DATA_AGE_SEC);
    expect(m.evidence).toMatchObject({ missing: true });
    expect(String(m.evidence.note)).toMatch(/sentinel/);
  });

  it('repeats the reading per strategy in strategy scope', () => {
    const m = staleness.measure(
      rule({ kind: 'staleness', source: 'snapshot', limit: 900, scope: 'strategy' }),
      input(snap),
    );
    expect(m.map((x) => [x.scopeKey, x.value, x.strategies])).toEqual([
      ['a', 600, ['a']],
      ['b', 600, ['b']],
    ]);
    expect(NOW_MS - snap.asOfMs).toBe(600_000);
  });
});
