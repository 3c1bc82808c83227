import { describe, expect, it } from 'vitest';
import type { EvaluationResult } from '#lib/engine/evaluate.js';
import { marketView, snapshot } from '../rules/fixtures.js';
import {
  ES_MULT_99,
  expectNear,
  iso,
  outcome,
  Runner,
  ruleSet,
  STEP_MS,
  type StepInput,
  signalFor,
  T0_MS,
  Z99,
} from './harness.js';

/** Rows with a fixed cut (kinds no position cut moves) register no escalation test. */
function itWhenSized(row: { sized?: false }): (name: string, fn: () => void) => void {
  return row.sized === false ? () => undefined : it;
}

/** Kinds whose measure can never be unavailable (concentration, staleness) register no such test. */
function itWhenUnavailable(row: { unavailable?: unknown }): (name: string, fn: () => void) => void {
  return row.unavailable ? it : () => undefined;
}

/**
 * Scenario tests per rule kind: each row has a "dial" that builds inputs whose measure is a chosen
 * value v (by a closed form written here), and the expected cut per strategy at v. Every scenario
 * then runs the same sequence of evaluations against every kind.
 */

interface Levels {
  /** Below the clear level. */
  low: number;
  /** Between clear and limit: neither fires nor clears. */
  mid: number;
  /** Above the limit: cut ratio 1/6 for proportional sizing (v = 1.2·L). */
  high: number;
  /** Above `high` with a cut less than `min_ratio_step` (0.05) larger: 0.2 vs 1/6. */
  nudge: number;
  /** Cut at least `min_ratio_step` larger than at `high`. */
  higher: number;
}

interface KindRow {
  name: string;
  rule: Record<string, unknown>;
  limit: number;
  clear: number;
  levels: Levels;
  /** Inputs whose measure is v at time nowMs. */
  make: (v: number, nowMs: number) => StepInput;
  /** Inputs for which the measure is unavailable (null), where the kind can have that. */
  unavailable?: (nowMs: number) => StepInput;
  /** Expected reduction ratio per strategy at measure v (target = limit), by closed form. */
  cut: (v: number) => Record<string, number>;
  /** Strategies the measurement covers (those that get `hold` when the episode clears). */
  covered: string[];
  /**
   * False for kinds no position cut moves (the schema allows them only exit or reduce_fixed): their
   * rows use a fixed cut, so the escalation scenarios (a larger measure asks for a larger cut) do not apply.
   */
  sized?: false;
}

const W = { a: 0.5, b: 0.5 };
const AB = ['a', 'b'];
/** Levels around a positive limit L: clear at 0.8·L. */
const around = (L: number): Levels => ({
  low: 0.6 * L,
  mid: 0.9 * L,
  high: 1.2 * L, // r = 1 − 1/1.2 = 1/6
  nudge: 1.25 * L, // r = 1 − 1/1.25 = 0.2  (up 0.0333 < 0.05)
  higher: L / 0.65, // r = 0.35            (up 0.1833 ≥ 0.05)
});
/** Proportional/uniform cut r = 1 − L/v on both strategies. */
const both = (L: number) => (v: number) => ({ a: 1 - L / v, b: 1 - L / v });
/** The fixed cut of the rows whose measure no position cut moves. */
const FIXED_RATIO = 0.25;
const FIXED = { action: { type: 'reduce_fixed', ratio: FIXED_RATIO } };
const fixedCut = () => ({ a: FIXED_RATIO, b: FIXED_RATIO });

// --- correlation_breakdown dial: two strategies, 6 blocks of 5 returns; block k has correlation c_k.
const BLOCK_A = [1, -1, 1, -1, 0].map((x) => x * 0.01);
const BLOCK_P = [1, 1, -1, -1, 0].map((x) => x * 0.01); // mean 0, ⟂ BLOCK_A, same norm
const HISTORY = [0.1, 0.12, 0.08, 0.1, 0.11];
/** z-score of the last block against all 6 (sample sd, n − 1), by hand. */
function zOf(blocks: number[]): number {
  const m = blocks.reduce((s, x) => s + x, 0) / blocks.length;
  const sd = Math.sqrt(blocks.reduce((s, x) => s + (x - m) ** 2, 0) / (blocks.length - 1));
  return (blocks.at(-1)! - m) / sd;
}
/** The last block's correlation c giving z = v (bisection on the hand formula; z rises with c). */
function corrFor(v: number): number {
  let lo = -1;
  let hi = 1;
  if (zOf([...HISTORY, hi]) < v) throw new Error(`z ${v} not reachable`);
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (zOf([...HISTORY, mid]) < v) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
function corrReturns(correlations: number[]): Record<string, number[]> {
  const a: number[] = [];
  const b: number[] = [];
  for (const c of correlations) {
    const s = Math.sqrt(1 - c * c);
    BLOCK_A.forEach((x, k) => {
      a.push(x);
      b.push(c * x + s * BLOCK_P[k]!);
    });
  }
  return { a, b };
}

const at = (nowMs: number) => iso(nowMs - 30_000);

const rows: KindRow[] = [
  {
    name: 'var_limit (normal)',
    rule: { kind: 'var_limit', method: 'normal', limit: 0.05, clear: 0.04 },
    limit: 0.05,
    clear: 0.04,
    levels: around(0.05),
    // Diagonal Σ = s²·I, w = (½, ½): σ_P = s/√2, VaR₉₉ = z·s/√2 ⇒ s = v·√2/z.
    make: (v, nowMs) => {
      const s2 = ((v * Math.SQRT2) / Z99) ** 2;
      return { snap: snapshot({ weights: W, covariance: { 'a,a': s2, 'b,b': s2 }, asOf: at(nowMs) }), nowMs };
    },
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: both(0.05),
    covered: AB,
  },
  {
    name: 'es_limit (normal)',
    rule: { kind: 'es_limit', method: 'normal', limit: 0.05, clear: 0.04 },
    limit: 0.05,
    clear: 0.04,
    levels: around(0.05),
    // ES₉₉ = σ_P·φ(z)/0.01 with σ_P = s/√2 ⇒ s = v·√2/(φ(z)/0.01).
    make: (v, nowMs) => {
      const s2 = ((v * Math.SQRT2) / ES_MULT_99) ** 2;
      return { snap: snapshot({ weights: W, covariance: { 'a,a': s2, 'b,b': s2 }, asOf: at(nowMs) }), nowMs };
    },
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: both(0.05),
    covered: AB,
  },
  {
    name: 'stress_drawdown (worst scenario)',
    rule: { kind: 'stress_drawdown', limit: 0.2, clear: 0.16 },
    limit: 0.2,
    clear: 0.16,
    levels: around(0.2),
    // The worst of two scenarios is v.
    make: (v, nowMs) => ({
      snap: snapshot({
        weights: W,
        stress: { world: { crash: { max_drawdown: v }, mild: { max_drawdown: v / 2 } } },
        asOf: at(nowMs),
      }),
      nowMs,
    }),
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: both(0.2),
    covered: AB,
  },
  {
    name: 'drawdown (realized, world)',
    rule: { kind: 'drawdown', limit: 0.1, clear: 0.08, ...FIXED },
    limit: 0.1,
    clear: 0.08,
    levels: around(0.1),
    // Equity 1 → 1.02 (peak) → 1.02·(1 − v): current drawdown 1 − 1.02(1 − v)/1.02 = v.
    make: (v, nowMs) => ({
      snap: snapshot({ weights: W, portfolioReturns: [0.02, -v], asOf: at(nowMs) }),
      nowMs,
    }),
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: fixedCut,
    sized: false,
    covered: AB,
  },
  {
    name: 'concentration (max_weight, world)',
    rule: { kind: 'concentration', measure: 'max_weight', limit: 0.6, clear: 0.55 },
    limit: 0.6,
    clear: 0.55,
    // w = (v, 1 − v) with v > ½: max |w| = v.
    levels: { low: 0.52, mid: 0.58, high: 0.72, nudge: 0.75, higher: 0.6 / 0.65 },
    make: (v, nowMs) => ({ snap: snapshot({ weights: { a: v, b: 1 - v }, asOf: at(nowMs) }), nowMs }),
    // Exact cut: only the strategy above the target, to the target: 1 − L/v (b = 1 − v stays below).
    cut: (v) => ({ a: 1 - 0.6 / v }),
    covered: AB,
  },
  {
    name: 'volatility_regime (vix_level)',
    rule: { kind: 'volatility_regime', measure: 'vix_level', limit: 30, clear: 24, ...FIXED },
    limit: 30,
    clear: 24,
    levels: around(30),
    make: (v, nowMs) => ({
      snap: snapshot({ weights: W, asOf: at(nowMs) }),
      market: [marketView('global', iso(nowMs - 5_000), { vix: v, vix3m: 20 })],
      nowMs,
    }),
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: fixedCut,
    sized: false,
    covered: AB,
  },
  {
    name: 'correlation_breakdown (avg_correlation_z)',
    rule: {
      kind: 'correlation_breakdown',
      measure: 'avg_correlation_z',
      short_window: 5,
      long_window: 30,
      limit: 1.2,
      clear: 0.96,
      ...FIXED,
    },
    limit: 1.2,
    clear: 0.96,
    levels: around(1.2),
    make: (v, nowMs) => ({
      snap: snapshot({ weights: W, returns: corrReturns([...HISTORY, corrFor(v)]), asOf: at(nowMs) }),
      nowMs,
    }),
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: fixedCut,
    sized: false,
    covered: AB,
  },
  {
    name: 'liquidity (spread_widening)',
    rule: {
      kind: 'liquidity',
      measure: 'spread_widening',
      short_window: 1,
      long_window: 4,
      limit: 1.5,
      clear: 1.2,
      ...FIXED,
    },
    limit: 1.5,
    clear: 1.2,
    levels: around(1.5),
    // Spreads (1, 1, 1, x)·10⁻³ for both: short mean x, long mean (3 + x)/4 ⇒ v = 4x/(3 + x), x = 3v/(4 − v).
    make: (v, nowMs) => {
      const x = (3 * v) / (4 - v);
      const spread = [1, 1, 1, x].map((s) => s / 1000);
      return {
        snap: snapshot({ weights: W, asOf: at(nowMs) }),
        market: [marketView('global', iso(nowMs - 5_000), {}, { a: { spread }, b: { spread } })],
        nowMs,
      };
    },
    unavailable: (nowMs) => ({ snap: snapshot({ weights: W, asOf: at(nowMs) }), nowMs }),
    cut: fixedCut,
    sized: false,
    covered: AB,
  },
  {
    name: 'staleness (snapshot)',
    rule: { kind: 'staleness', source: 'snapshot', limit: 600, clear: 480, ...FIXED },
    limit: 600,
    clear: 480,
    // Whole seconds so as_of is exact in ISO form; higher: r = 1 − 600/1000 = 0.4.
    levels: { low: 360, mid: 540, high: 720, nudge: 750, higher: 1000 },
    // Age = now − as_of = v seconds.
    make: (v, nowMs) => ({ snap: snapshot({ weights: W, asOf: iso(nowMs - v * 1000) }), nowMs }),
    cut: fixedCut,
    sized: false,
    covered: AB,
  },
];

const ID = 'under_test';
const clock = (k: number) => T0_MS + k * STEP_MS;

function expectNoSignals(result: EvaluationResult): void {
  expect(result.signals).toEqual([]);
}

/** The enforce signals match the expected cut exactly (no other strategy gets one). */
function expectCut(result: EvaluationResult, expected: Record<string, number>, row: KindRow): void {
  const got = result.signals.filter((s) => s.channel === 'enforce').map((s) => s.signal.strategy_id);
  expect(got.sort()).toEqual(Object.keys(expected).sort());
  for (const [s, r] of Object.entries(expected)) {
    const sig = signalFor(result, s)!;
    expect(sig.signal.action).toBe('reduce');
    expectNear(sig.signal.reduction_ratio, r);
    expect(sig.signal.reason).toBe(`${row.rule.kind}_breach`);
    expect(sig.signal.tags).toEqual(
      expect.arrayContaining([
        `rule:${ID}`,
        'mode:enforce',
        'scope:world',
        'severity:blocking',
        'priority:100',
      ]),
    );
    expect(sig.signal.metrics.limit).toBe(row.limit);
  }
}

describe.each(rows)('$name', (row) => {
  const { levels: L } = row;
  const base = { id: ID, ...row.rule };

  it('has a dial whose levels sit where the scenarios need them (test design check)', () => {
    expect(L.low).toBeLessThan(row.clear);
    expect(L.mid).toBeGreaterThan(row.clear);
    expect(L.mid).toBeLessThan(row.limit);
    if (row.sized === false) return;
    const r = (v: number) => Math.max(...Object.values(row.cut(v)));
    expect(r(L.nudge)).toBeGreaterThan(r(L.high));
    expect(r(L.nudge) - r(L.high)).toBeLessThan(0.05 - 0.005);
    expect(r(L.higher) - r(L.high)).toBeGreaterThan(0.05 + 0.005);
  });

  it('measures the dialled value and does not fire at or below the limit', () => {
    const run = new Runner(ruleSet([base]));
    for (const [k, v] of [L.low, L.mid, L.low].entries()) {
      const res = run.step(row.make(v, clock(k)));
      const o = outcome(res, ID);
      expectNear(o.measure, v);
      expectNear(o.utilization, v / row.limit);
      expect(o.verdict).toBe('ok');
      expect(o.proposed).toBeUndefined();
      expectNoSignals(res);
      expect(res.episodes).toEqual([]);
    }
  });

  it('fires once on a breach with the expected cut, then stays quiet while the breach holds', () => {
    const run = new Runner(ruleSet([base]));
    const fired = run.step(row.make(L.high, clock(0)));
    const o = outcome(fired, ID);
    expect(o.verdict).toBe('fired');
    expectNear(o.measure, L.high);
    expectCut(fired, row.cut(L.high), row);
    const sig = fired.signals[0]!;
    expectNear(sig.signal.metrics.measure as number, L.high);
    expect(sig.signal.metrics.contributing_rules).toEqual([
      expect.objectContaining({ rule_id: ID, action: 'reduce' }),
    ]);
    expect(run.episode(ID)).toMatchObject({ status: 'active', last_action: 'reduce' });
    for (let k = 1; k <= 3; k++) {
      const again = run.step(row.make(L.high, clock(k)));
      expect(outcome(again, ID).verdict).toBe('active');
      expectNoSignals(again);
    }
  });

  it('clears only at or below the clear level (hysteresis) and then says hold', () => {
    const run = new Runner(ruleSet([base]));
    const fired = run.step(row.make(L.high, clock(0)));
    // Hold goes to exactly the strategies the episode told to cut (a world max_weight cut may
    // touch one strategy only), never to ones it never signalled.
    const told = fired.signals.map((s) => s.signal.strategy_id).sort();
    expect(told.length).toBeGreaterThan(0);
    const episodeId = run.episode(ID)?.episode_id;
    expect(episodeId).toBeTruthy();
    // Between clear and limit: the episode neither re-fires nor clears.
    const between = run.step(row.make(L.mid, clock(1)));
    expect(outcome(between, ID).verdict).toBe('active');
    expectNoSignals(between);
    const back = run.step(row.make(L.high, clock(2)));
    expect(outcome(back, ID).verdict).toBe('active');
    expectNoSignals(back);
    const cleared = run.step(row.make(L.low, clock(3)));
    expect(outcome(cleared, ID).verdict).toBe('cleared');
    expect(cleared.signals.map((s) => s.signal.strategy_id).sort()).toEqual(told);
    for (const s of cleared.signals) {
      expect(s.channel).toBe('enforce');
      expect(s.signal.action).toBe('hold');
      expect(s.signal.reduction_ratio).toBe(0);
      expect(s.signal.reason).toBe('risk_episode_cleared');
      expect(s.signal.metrics.episode_id).toBe(episodeId);
      expect(s.signal.tags).toContain(`rule:${ID}`);
    }
    expect(run.episode(ID)?.status).toBe('idle');
    // Idle again: below the limit nothing happens; the next breach opens a new episode.
    expectNoSignals(run.step(row.make(L.low, clock(4))));
    expectNoSignals(run.step(row.make(L.mid, clock(5))));
    const refired = run.step(row.make(L.high, clock(6)));
    expect(outcome(refired, ID).verdict).toBe('fired');
    expectCut(refired, row.cut(L.high), row);
  });

  it('waits out persistence: N − 1 breaches say nothing, the N-th fires; a recovery resets the count', () => {
    const run = new Runner(ruleSet([{ ...base, persistence: 3 }]));
    const verdicts: string[] = [];
    const seq = [L.high, L.high, L.mid, L.high, L.high, L.high];
    seq.forEach((v, k) => {
      const res = run.step(row.make(v, clock(k)));
      verdicts.push(outcome(res, ID).verdict);
      if (k < 5) expectNoSignals(res);
      else expectCut(res, row.cut(L.high), row);
    });
    expect(verdicts).toEqual([
      'breach_pending',
      'breach_pending',
      'ok',
      'breach_pending',
      'breach_pending',
      'fired',
    ]);
  });

  itWhenSized(row)('re-emits only on escalation by at least min_ratio_step', () => {
    const run = new Runner(ruleSet([base]));
    run.step(row.make(L.high, clock(0)));
    const small = run.step(row.make(L.nudge, clock(1)));
    expect(outcome(small, ID).verdict).toBe('active');
    expectNoSignals(small);
    const big = run.step(row.make(L.higher, clock(2)));
    expect(outcome(big, ID).verdict).toBe('escalated');
    expectCut(big, row.cut(L.higher), row);
    const same = run.step(row.make(L.higher, clock(3)));
    expect(outcome(same, ID).verdict).toBe('active');
    expectNoSignals(same);
    const lower = run.step(row.make(L.high, clock(4)));
    expect(outcome(lower, ID).verdict).toBe('active');
    expectNoSignals(lower);
  });

  it('re-emits after repeat_after_sec while the breach holds', () => {
    const run = new Runner(ruleSet([{ ...base, reemit: { repeat_after_sec: 300 } }]));
    const verdicts: string[] = [];
    // Evaluations every 60 s: t = 0 fires, t = 300 s and 600 s repeat.
    for (let k = 0; k <= 10; k++) {
      const res = run.step(row.make(L.high, clock(k)));
      const v = outcome(res, ID).verdict;
      verdicts.push(v);
      if (v === 'fired' || v === 'repeated') expectCut(res, row.cut(L.high), row);
      else expectNoSignals(res);
    }
    expect(verdicts).toEqual([
      'fired',
      'active',
      'active',
      'active',
      'active',
      'repeated',
      'active',
      'active',
      'active',
      'active',
      'repeated',
    ]);
  });

  it('does not say hold while another rule’s active episode still covers the strategies', () => {
    // Guard: gross leverage Σ|w| = 1 > 0.5 in every dial, so its episode stays active throughout.
    const guard = { id: 'guard_gross', kind: 'concentration', measure: 'gross_leverage', limit: 0.5 };
    const run = new Runner(ruleSet([base, guard]));
    const first = run.step(row.make(L.high, clock(0)));
    expect(outcome(first, 'guard_gross').verdict).toBe('fired');
    const cleared = run.step(row.make(L.low, clock(1)));
    expect(outcome(cleared, ID).verdict).toBe('cleared');
    expect(outcome(cleared, 'guard_gross').verdict).toBe('active');
    expectNoSignals(cleared);
  });

  itWhenUnavailable(row)('never fires on an unavailable measure and never clears on one', () => {
    const unavailable = row.unavailable!;
    const run = new Runner(ruleSet([{ ...base, persistence: 1 }]));
    const idle = run.step(unavailable(clock(0)));
    expect(outcome(idle, ID)).toMatchObject({ verdict: 'unavailable', measure: null, utilization: null });
    expect(typeof outcome(idle, ID).unavailable).toBe('string');
    expectNoSignals(idle);
    expect(run.episode(ID)).toBeUndefined();
    run.step(row.make(L.high, clock(1)));
    for (let k = 2; k <= 3; k++) {
      const res = run.step(unavailable(clock(k)));
      expect(outcome(res, ID).verdict).toBe('unavailable');
      expectNoSignals(res);
      expect(run.episode(ID)?.status).toBe('active');
    }
    const cleared = run.step(row.make(L.low, clock(4)));
    expect(outcome(cleared, ID).verdict).toBe('cleared');
    expect(cleared.signals.every((s) => s.signal.action === 'hold')).toBe(true);
    expect(cleared.signals.length).toBe(row.covered.length);
  });

  itWhenUnavailable(row)('keeps the persistence count across an unavailable evaluation', () => {
    const unavailable = row.unavailable!;
    const run = new Runner(ruleSet([{ ...base, persistence: 2 }]));
    expect(outcome(run.step(row.make(L.high, clock(0))), ID).verdict).toBe('breach_pending');
    expect(outcome(run.step(unavailable(clock(1))), ID).verdict).toBe('unavailable');
    const fired = run.step(row.make(L.high, clock(2)));
    expect(outcome(fired, ID).verdict).toBe('fired');
    expectCut(fired, row.cut(L.high), row);
  });
});

describe('correlation_breakdown with a negative limit (the schema allows any number for this kind)', () => {
  // Limit −0.5: a z-score above −0.5 is a breach. The proportional cut r = 1 − target/v has the wrong
  // sign for −0.5 < v < 0 (e.g. v = −0.2: r = 1 − 2.5 = −1.5, clamped to 0), so the episode fires and
  // nothing at all reaches the gateway — "one risk episode, one signal" is broken, and the `hold` at the
  // end of the episode then announces the end of an episode nobody was told about.
  const negRule = {
    id: 'neg_z',
    kind: 'correlation_breakdown',
    measure: 'avg_correlation_z',
    short_window: 5,
    long_window: 30,
    limit: -0.5,
    action: { type: 'exit' },
  };
  const dial = (z: number, k: number) => ({
    snap: snapshot({ weights: W, returns: corrReturns([...HISTORY, corrFor(z)]), asOf: at(clock(k)) }),
    nowMs: clock(k),
  });

  it('measures the dialled negative z-scores and fires above the limit (control)', () => {
    for (const z of [-0.45, -0.2]) {
      const o = outcome(new Runner(ruleSet([negRule])).step(dial(z, 0)), 'neg_z');
      expectNear(o.measure, z);
      expect(o.verdict).toBe('fired');
    }
  });

  // Regression: a sized reduce with a negative target once fired without any signal (its ratio
  // 1 − target/measure clamped to 0). The schema now refuses it; exit works at any level.
  it('refuses a sized reduce whose target is below 0', () => {
    expect(() => ruleSet([{ ...negRule, action: { type: 'reduce', sizing: 'uniform' } }])).toThrow(
      /a reduce sized to the target needs a target of at least 0/,
    );
  });

  it.each([-0.45, -0.2])('z = %s: the fired episode emits a reduce/exit signal for every strategy', (z) => {
    const res = new Runner(ruleSet([negRule])).step(dial(z, 0));
    expect(outcome(res, 'neg_z').verdict).toBe('fired');
    expect(res.signals.map((s) => s.signal.strategy_id)).toEqual(AB);
    for (const s of res.signals) expect(s.signal.action).not.toBe('hold');
  });
});
