import { describe, expect, it } from 'vitest';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { normalizeStress, SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';

const base = {
  world_id: 'w',
  as_of: '2026-12-01T00:00:00Z',
  version: 'v1',
  weights: { a: 0.6, b: 0.4 },
};
const parse = (extra: Record<string, unknown>, weights: Record<string, number> = base.weights) =>
  SnapshotDataSchema.parse({ ...base, weights, ...extra });
const problems = (extra: Record<string, unknown>) => {
  const r = SnapshotDataSchema.safeParse({ ...base, ...extra });
  return r.success ? [] : formatZodIssues(r.error);
};

/** Every shape upstream's consumers accept (core_loop_hub.extract_returns_from_realized / extract_stress_for_strategy). */
describe('SnapshotDataSchema: upstream realized_returns shapes', () => {
  it('keeps per-strategy series as they are', () => {
    expect(parse({ realized_returns: { a: [0.1], b: [0.2] } }).realized_returns).toEqual({
      a: [0.1],
      b: [0.2],
    });
  });

  it('reads {"returns": [...]} and {"live_returns": [...]} as the portfolio-level series', () => {
    expect(parse({ realized_returns: { returns: [0.01, -0.02] } }).realized_returns).toEqual([0.01, -0.02]);
    expect(parse({ realized_returns: { live_returns: [0.03], returns: [0.01] } }).realized_returns).toEqual([
      0.03,
    ]);
  });

  it('lifts {"strategies": {...}} to per-strategy series, a direct key winning', () => {
    expect(
      parse({ realized_returns: { strategies: { a: [0.1], b: [0.2] }, b: [0.3] } }).realized_returns,
    ).toEqual({ a: [0.1], b: [0.3] });
  });

  it("gives a one-strategy world's portfolio series to that strategy", () => {
    expect(parse({ realized_returns: { returns: [0.01] } }, { solo: 1 }).realized_returns).toEqual({
      solo: [0.01],
    });
    expect(parse({ realized_returns: [0.01] }, { solo: 1 }).realized_returns).toEqual({ solo: [0.01] });
  });

  it('prefers the portfolio series over per-strategy series that leave a strategy out', () => {
    expect(parse({ realized_returns: { a: [0.1], returns: [0.05] } }).realized_returns).toEqual([0.05]);
  });

  it('treats `returns` as a strategy when the world has a strategy of that name', () => {
    expect(
      parse({ realized_returns: { returns: [0.1] } }, { returns: 0.5, b: 0.5 }).realized_returns,
    ).toEqual({
      returns: [0.1],
    });
  });

  it('names the field of a bad value, nested or not', () => {
    expect(problems({ realized_returns: { strategies: { a: [0.1, 'x'] } } })).toEqual([
      'realized_returns.strategies.a[1]: must be a finite number',
    ]);
    expect(problems({ realized_returns: { strategies: { zz: [0.1] } } })).toEqual([
      "realized_returns.strategies.zz: unknown strategy 'zz' (not in weights)",
    ]);
    expect(problems({ realized_returns: { returns: 'x' } })).toEqual([
      'realized_returns.returns: must be an array of numbers',
    ]);
    expect(problems({ realized_returns: { zz: [1] } })).toEqual([
      "realized_returns.zz: unknown strategy 'zz' (not in weights)",
    ]);
  });
});

describe('SnapshotDataSchema: upstream stress shapes', () => {
  const ids = new Set(['a', 'b']);
  it('reads {scenario: metrics} as world scenarios', () => {
    const s = parse({ stress: { crash: { dd_max: 0.2 } } });
    expect(normalizeStress(s.stress, ids)).toEqual({
      world: { crash: { max_drawdown: 0.2 } },
      by_strategy: {},
    });
  });

  it('reads {strategy: {scenario: metrics}} and {"strategies": {...}} alike', () => {
    const direct = parse({ stress: { a: { crash: { max_drawdown: 0.3 } } } });
    const nested = parse({ stress: { strategies: { a: { crash: { max_drawdown: 0.3 } } } } });
    expect(normalizeStress(nested.stress, ids)).toEqual(normalizeStress(direct.stress, ids));
    expect(normalizeStress(nested.stress, ids).by_strategy).toEqual({ a: { crash: { max_drawdown: 0.3 } } });
  });

  it('names a bad nested metric by its path', () => {
    expect(problems({ stress: { strategies: { a: { crash: { max_drawdown: 'x' } } } } })).toEqual([
      'stress.a.crash.max_drawdown: must be a finite number',
    ]);
  });

  it('parses its own output to the same thing (refs are merged and re-parsed)', () => {
    const once = parse({
      realized_returns: { strategies: { a: [0.1], b: [0.2] } },
      stress: { strategies: { a: { c: { var_99: 0.1 } } } },
    });
    expect(SnapshotDataSchema.parse(once)).toEqual(once);
  });
});
