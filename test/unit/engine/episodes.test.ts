import { describe, expect, it } from 'vitest';
import { snapshot } from '../rules/fixtures.js';
import { expectNear, iso, outcome, Runner, ruleSet, STEP_MS, summary, T0_MS, Z99 } from './harness.js';

/**
 * Anti-flapping details that the per-kind scenarios do not pin down: exact boundaries, escalation by
 * a stricter action, cumulative escalation, repeat timing, per-strategy episodes and state reporting.
 * The measure is a stress_drawdown worst loss dialled directly; uniform cut r = 1 − 0.2/v.
 */

const W = { a: 0.6, b: 0.4 };
const loss = (v: number, asOfMs = T0_MS) =>
  snapshot({ weights: W, stress: { world: { crash: { max_drawdown: v } } }, asOf: iso(asOfMs) });
const rule = (extra: Record<string, unknown> = {}) => ({
  id: 'st',
  kind: 'stress_drawdown',
  limit: 0.2,
  ...extra,
});
/** Measure giving uniform cut r against target 0.2: v = 0.2/(1 − r). */
const forRatio = (r: number) => 0.2 / (1 - r);

function verdicts(run: Runner, values: number[], stepMs = STEP_MS): string[] {
  return values.map((v, k) => {
    const t = T0_MS + k * stepMs;
    return outcome(run.step({ snap: loss(v, t), nowMs: t }), 'st').verdict;
  });
}

describe('boundaries', () => {
  it('a measure exactly at the limit does not fire; just above does', () => {
    expect(verdicts(new Runner(ruleSet([rule()])), [0.2, 0.2, 0.2000001])).toEqual(['ok', 'ok', 'fired']);
  });

  it('a measure exactly at the clear level clears', () => {
    expect(verdicts(new Runner(ruleSet([rule({ clear: 0.15 })])), [0.3, 0.15000001, 0.15])).toEqual([
      'fired',
      'active',
      'cleared',
    ]);
  });

  it('without a clear level the episode clears at the limit itself', () => {
    expect(verdicts(new Runner(ruleSet([rule()])), [0.3, 0.2000001, 0.2])).toEqual([
      'fired',
      'active',
      'cleared',
    ]);
  });

  it('persistence 1 (the default) fires on the first breach', () => {
    expect(verdicts(new Runner(ruleSet([rule()])), [0.3])).toEqual(['fired']);
  });

  it('persistence N: exactly N consecutive breaches, no earlier', () => {
    for (const n of [2, 4, 7]) {
      const got = verdicts(new Runner(ruleSet([rule({ persistence: n })])), Array(n).fill(0.3));
      expect(got).toEqual([...Array(n - 1).fill('breach_pending'), 'fired']);
    }
  });
});

describe('escalation', () => {
  it('a stricter action (the rule now says exit) re-emits within the episode', () => {
    const run = new Runner(ruleSet([rule({ action: { type: 'reduce_fixed', ratio: 0.3 } })]));
    run.step({ snap: loss(0.3), nowMs: T0_MS });
    run.rules = ruleSet([rule({ action: { type: 'exit' } })]);
    const res = run.step({ snap: loss(0.3), nowMs: T0_MS + STEP_MS });
    expect(outcome(res, 'st').verdict).toBe('escalated');
    expect(summary(res)).toEqual(['enforce:a:exit:1', 'enforce:b:exit:1']);
    // Back to a reduce is not stricter: silence.
    run.rules = ruleSet([rule({ action: { type: 'reduce_fixed', ratio: 0.9 } })]);
    const back = run.step({ snap: loss(0.3), nowMs: T0_MS + 2 * STEP_MS });
    expect(outcome(back, 'st').verdict).toBe('active');
    expect(back.signals).toEqual([]);
  });

  it('small increases accumulate against the last emitted ratio', () => {
    // r: 1/6 (fire), 0.20, 0.21 (both < 1/6 + 0.05), 0.22 (≥ 0.2167: escalate), 0.25 (< 0.27), 0.28.
    const ratios = [1 / 6, 0.2, 0.21, 0.22, 0.25, 0.28];
    const run = new Runner(ruleSet([rule()]));
    expect(verdicts(run, ratios.map(forRatio))).toEqual([
      'fired',
      'active',
      'active',
      'escalated',
      'active',
      'escalated',
    ]);
    expectNear(run.results[3]?.signals[0]?.signal.reduction_ratio, 0.22);
    expectNear(run.results[5]?.signals[0]?.signal.reduction_ratio, 0.28);
  });

  it('an increase of exactly min_ratio_step escalates', () => {
    // 0.2/0.8 = 0.25 ⇒ r = 0.2; 0.2/0.75 ⇒ r = 0.25: up by exactly 0.05.
    expect(verdicts(new Runner(ruleSet([rule()])), [0.25, 0.2 / 0.75])).toEqual(['fired', 'escalated']);
  });

  it('honours a custom min_ratio_step', () => {
    const run = new Runner(ruleSet([rule({ reemit: { min_ratio_step: 0.1 } })]));
    // r: 1/6, 0.25 (+0.083 < 0.1), 0.3 (+0.133).
    expect(verdicts(run, [1 / 6, 0.25, 0.3].map(forRatio))).toEqual(['fired', 'active', 'escalated']);
  });

  it('a falling ratio never re-emits', () => {
    expect(
      verdicts(
        new Runner(ruleSet([rule()])),
        [0.5, 0.4, 0.3, 0.25].map((r) => forRatio(r)),
      ),
    ).toEqual(['fired', 'active', 'active', 'active']);
  });
});

describe('repeat interval', () => {
  it('counts from the last emission, escalations included', () => {
    const run = new Runner(ruleSet([rule({ reemit: { repeat_after_sec: 300 } })]));
    // Every 60 s: fire at 0, escalate at 120 s, so nothing at 300 s; repeat at 420 s (300 s after 120 s).
    const values = [1 / 6, 1 / 6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3].map(forRatio);
    expect(verdicts(run, values)).toEqual([
      'fired',
      'active',
      'escalated',
      'active',
      'active',
      'active',
      'active',
      'repeated',
    ]);
    expectNear(run.results[7]?.signals[0]?.signal.reduction_ratio, 0.3);
  });

  it('does not repeat while the measure sits between clear and limit, and repeats once above again', () => {
    const run = new Runner(ruleSet([rule({ clear: 0.1, reemit: { repeat_after_sec: 300 } })]));
    // 0 s breach, 60…600 s at 0.15 (between), 660 s breach again: 660 s since the last emission.
    const values = [0.3, ...Array(10).fill(0.15), 0.3];
    const got = verdicts(run, values);
    expect(got.slice(0, 11)).toEqual(['fired', ...Array(10).fill('active')]);
    expect(got[11]).toBe('repeated');
  });

  it('never repeats without repeat_after_sec', () => {
    const got = verdicts(new Runner(ruleSet([rule()])), Array(30).fill(0.3), 3_600_000);
    expect(got).toEqual(['fired', ...Array(29).fill('active')]);
  });
});

describe('episode state', () => {
  it('reports exactly the episodes whose state changed, with episode id and opening time', () => {
    const run = new Runner(ruleSet([rule({ persistence: 2 })]));
    const first = run.step({ snap: loss(0.3), nowMs: T0_MS });
    expect(first.episodes).toEqual([
      expect.objectContaining({ rule_id: 'st', scope_key: 'world', status: 'pending', breach_count: 1 }),
    ]);
    const t1 = T0_MS + STEP_MS;
    const fired = run.step({ snap: loss(0.3, t1), nowMs: t1 });
    expect(fired.episodes).toEqual([
      expect.objectContaining({
        status: 'active',
        breach_count: 2,
        opened_at: iso(t1),
        last_emitted_at: iso(t1),
        last_action: 'reduce',
        episode_id: `st:world:${iso(t1)}`,
      }),
    ]);
    expectNear(fired.episodes[0]?.last_ratio, 1 / 3); // 1 − 0.2/0.3
    const t2 = T0_MS + 2 * STEP_MS;
    expect(run.step({ snap: loss(0.3, t2), nowMs: t2 }).episodes).toEqual([]);
    const t3 = T0_MS + 3 * STEP_MS;
    const cleared = run.step({ snap: loss(0.1, t3), nowMs: t3 });
    expect(cleared.episodes).toEqual([expect.objectContaining({ status: 'idle', breach_count: 0 })]);
    expect(cleared.episodes[0]?.episode_id).toBeUndefined();
    expect(cleared.signals[0]?.signal.metrics).toMatchObject({
      episode_id: `st:world:${iso(t1)}`,
      episode_opened_at: iso(t1),
    });
  });

  it('keeps one episode per strategy for strategy-scoped rules', () => {
    // Stand-alone VaR₉₉ of strategy i = z·|wᵢ|·σᵢ; limit 0.05.
    const ss = (sa: number, sb: number, t: number) =>
      snapshot({
        weights: W,
        covariance: { 'a,a': sa * sa, 'b,b': sb * sb },
        asOf: iso(t),
      });
    // σ that puts the VaR at v for weight w: σ = v/(z·w).
    const sig = (v: number, w: number) => v / (Z99 * w);
    const run = new Runner(
      ruleSet([{ id: 'pv', kind: 'var_limit', scope: 'strategy', limit: 0.05, clear: 0.04 }]),
    );
    const s0 = run.step({ snap: ss(sig(0.06, 0.6), sig(0.03, 0.4), T0_MS), nowMs: T0_MS });
    expect(outcome(s0, 'pv', 'a').verdict).toBe('fired');
    expect(outcome(s0, 'pv', 'b').verdict).toBe('ok');
    expectNear(outcome(s0, 'pv', 'a').measure, 0.06);
    expect(summary(s0)).toEqual([`enforce:a:reduce:${Number((1 - 0.05 / 0.06).toPrecision(12))}`]);
    expect(s0.signals[0]?.signal.tags).toContain('scope:strategy');
    const t1 = T0_MS + STEP_MS;
    const s1 = run.step({ snap: ss(sig(0.06, 0.6), sig(0.08, 0.4), t1), nowMs: t1 });
    expect(outcome(s1, 'pv', 'a').verdict).toBe('active');
    expect(outcome(s1, 'pv', 'b').verdict).toBe('fired');
    expect(s1.signals.map((s) => s.signal.strategy_id)).toEqual(['b']);
    expectNear(s1.signals[0]?.signal.reduction_ratio, 1 - 0.05 / 0.08);
    const t2 = T0_MS + 2 * STEP_MS;
    const s2 = run.step({ snap: ss(sig(0.03, 0.6), sig(0.08, 0.4), t2), nowMs: t2 });
    expect(outcome(s2, 'pv', 'a').verdict).toBe('cleared');
    // Strategy b's episode does not cover a: a gets its hold.
    expect(summary(s2)).toEqual(['enforce:a:hold:0']);
  });

  it('leaves zero-weight strategies out of a world-wide action', () => {
    const res = new Runner(ruleSet([rule()])).step({
      snap: snapshot({ weights: { a: 1, idle: 0 }, stress: { world: { crash: { max_drawdown: 0.3 } } } }),
      nowMs: T0_MS,
    });
    expect(res.signals.map((s) => s.signal.strategy_id)).toEqual(['a']);
  });
});
