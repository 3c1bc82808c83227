import { describe, expect, it } from 'vitest';
import { buildExitSignalEvent } from '#lib/engine/build-event.js';
import type { EvaluationResult } from '#lib/engine/evaluate.js';
import { RuleSchema } from '#lib/rules/rule-schema.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { snapshot } from '../rules/fixtures.js';
import { expectNear, outcome, Runner, ruleSet, signalFor, T0_MS } from './harness.js';

/**
 * `sizing: contribution` for every method and kind that allows it, and a validation error naming
 * the rule for every one that does not. Every cut is checked by re-measuring the cut portfolio with
 * plain reference code written here (sorting losses, sample moments), never the engine's functions.
 */

const IDS = ['big', 'mid', 'tiny'];
const W = { big: 0.5, mid: 0.3, tiny: 0.2 };

/** A deterministic generator for the test data (xorshift32), independent of the library's PRNG. */
function generator(seed: number) {
  let x = seed >>> 0 || 1;
  const uniform = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x + 0.5) / 4294967296;
  };
  // Box–Muller normal.
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * 200 periods: `big` is volatile with fat left tails (occasional −4σ shocks), `mid` moderate and
 * partly correlated with it, `tiny` almost flat. The tail is driven by `big`.
 */
function makeReturns(): Record<string, number[]> {
  const g = generator(20261201);
  const big: number[] = [];
  const mid: number[] = [];
  const tiny: number[] = [];
  for (let t = 0; t < 200; t++) {
    const shock = t % 23 === 7 ? -4 : 0;
    const zb = g() + shock;
    big.push(0.02 * zb);
    mid.push(0.008 * (0.3 * zb + g()));
    tiny.push(0.0002 * g());
  }
  return { big, mid, tiny };
}
const RETURNS = makeReturns();

// --- reference measures, written out here ---------------------------------------------------------

function portfolio(w: Record<string, number>): number[] {
  const n = RETURNS.big!.length;
  const out = new Array<number>(n).fill(0);
  for (const id of IDS) for (let t = 0; t < n; t++) out[t]! += w[id]! * RETURNS[id]![t]!;
  return out;
}
function historicalRef(series: number[], confidence: number): { var: number; es: number } {
  const losses = series.map((r) => -r).sort((a, b) => b - a);
  const k = Math.ceil(series.length * (1 - confidence) - 1e-9);
  const tail = losses.slice(0, k);
  return { var: tail[k - 1]!, es: tail.reduce((s, x) => s + x, 0) / k };
}
function sampleStd(x: number[]): number {
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1));
}
/** Cornish–Fisher 99% VaR, zero mean: σ the n − 1 std, S and K the moment estimates. */
function cornishFisherVarRef(x: number[]): number {
  const n = x.length;
  const m = x.reduce((s, v) => s + v, 0) / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const v of x) {
    const d = v - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const S = m3 / m2 ** 1.5;
  const K = m4 / (m2 * m2) - 3;
  const z = -2.3263478740408408; // Φ⁻¹(0.01)
  const zcf = z + ((z * z - 1) * S) / 6 + ((z ** 3 - 3 * z) * K) / 24 - ((2 * z ** 3 - 5 * z) * S * S) / 36;
  return -zcf * sampleStd(x);
}

const cut = (w: Record<string, number>, r: Record<string, number>) =>
  Object.fromEntries(Object.entries(w).map(([id, x]) => [id, x * (1 - (r[id] ?? 0))]));

function ratiosOf(res: EvaluationResult): Record<string, number> {
  return Object.fromEntries(IDS.map((id) => [id, signalFor(res, id)?.signal.reduction_ratio ?? 0]));
}
const totalCut = (w: Record<string, number>, r: Record<string, number>) =>
  Object.entries(w).reduce((s, [id, x]) => s + Math.abs(x) * (r[id] ?? 0), 0);

function evaluate(rule: Record<string, unknown>, spec = { weights: W, returns: RETURNS }) {
  return new Runner(ruleSet([{ id: 'sz', ...rule }])).step({ snap: snapshot(spec), nowMs: T0_MS });
}

/** The event these signals would be published in, checked against upstream's schema ('' = valid). */
function validEvent(res: EvaluationResult): string {
  const event = buildExitSignalEvent(
    {
      world_id: 'w1',
      as_of: '2025-01-01T00:00:00Z',
      snapshot_version: 'v1',
      snapshot_event_version: 1,
      evaluation_key: '0123456789abcdef0123',
      now: '2025-03-03T09:00:00.000Z',
      provenance: { actor: 'exit-engine' },
    },
    res.signals.filter((s) => s.channel === 'enforce'),
  );
  return upstreamValidator().exitSignal(event);
}

describe('contribution sizing for the historical method', () => {
  const before = historicalRef(portfolio(W), 0.95);

  it.each([
    { kind: 'es_limit', pick: (h: { var: number; es: number }) => h.es },
    { kind: 'var_limit', pick: (h: { var: number; es: number }) => h.var },
  ])(
    '$kind: cuts the tail-driving strategy to the target and leaves the near-zero contributor alone',
    ({ kind, pick }) => {
      const m0 = pick(before);
      const target = 0.8 * m0;
      const res = evaluate({
        kind,
        method: 'historical',
        confidence: 0.95,
        limit: 0.9 * m0,
        target,
        action: { type: 'reduce', sizing: 'contribution' },
      });
      expectNear(outcome(res, 'sz').measure, m0);
      const r = ratiosOf(res);
      expect(r.big).toBeGreaterThan(0);
      expect(r.tiny).toBe(0);
      expect(signalFor(res, 'tiny')).toBeUndefined();
      const after = pick(historicalRef(portfolio(cut(W, r)), 0.95));
      expect(after).toBeLessThanOrEqual(target * (1 + 1e-9));
      expect(after).toBeGreaterThan(target * (1 - 1e-6));
      // Aimed: less capital cut than the uniform 1 − target/measure on every strategy.
      expect(totalCut(W, r)).toBeLessThan((1 - target / m0) * 1);
      const metrics = signalFor(res, 'big')!.signal.metrics;
      expect(metrics).toMatchObject({ sizing: 'contribution', contribution_order: ['big'] });
      expect(String(metrics.contribution_basis)).toMatch(/tail periods/);
      expectNear(metrics.measure_after as number, after, 1e-9);
    },
  );

  it('cuts the next contributor when the first cannot reach the target alone', () => {
    const m0 = before.es;
    // Below what removing `big` altogether gives: `mid` must be cut too.
    const target = 0.05 * m0;
    const res = evaluate({
      kind: 'es_limit',
      method: 'historical',
      confidence: 0.95,
      limit: 0.5 * m0,
      target,
      action: { type: 'reduce', sizing: 'contribution' },
    });
    const r = ratiosOf(res);
    expect(r.mid).toBeGreaterThan(0);
    const after = historicalRef(portfolio(cut(W, r)), 0.95).es;
    expect(after).toBeLessThanOrEqual(target * (1 + 1e-9));
    expect(after).toBeGreaterThan(target * (1 - 1e-6));
  });

  it('a snapshot with only a portfolio series falls back to a uniform cut and says why', () => {
    const series = portfolio(W);
    const m0 = historicalRef(series, 0.95).es;
    const res = evaluate(
      {
        kind: 'es_limit',
        method: 'historical',
        confidence: 0.95,
        limit: 0.9 * m0,
        target: 0.8 * m0,
        action: { type: 'reduce', sizing: 'contribution' },
      },
      { weights: W, portfolioReturns: series } as never,
    );
    for (const id of IDS) expectNear(signalFor(res, id)?.signal.reduction_ratio, 0.2);
    const metrics = signalFor(res, 'big')!.signal.metrics;
    expect(metrics.sizing).toBe('uniform_fallback');
    expect(String(metrics.sizing_fallback_reason)).toMatch(/needs realized_returns per strategy/);
  });
});

describe('contribution sizing for Student-t and Cornish–Fisher', () => {
  it('student_t (ν fixed): the cut portfolio’s σ falls by exactly target/measure, tiny untouched', () => {
    const m0 = outcome(evaluate({ kind: 'var_limit', method: 'student_t', dof: 5, limit: 1 }), 'sz').measure!;
    const target = 0.85 * m0;
    const res = evaluate({
      kind: 'var_limit',
      method: 'student_t',
      dof: 5,
      limit: 0.9 * m0,
      target,
      action: { type: 'reduce', sizing: 'contribution' },
    });
    const r = ratiosOf(res);
    expect(r.big).toBeGreaterThan(0);
    expect(r.tiny).toBe(0);
    // Same ν and quantile: VaR is proportional to the sample σ of the portfolio series.
    const ratio = sampleStd(portfolio(cut(W, r))) / sampleStd(portfolio(W));
    expect(ratio).toBeLessThanOrEqual((target / m0) * (1 + 1e-9));
    expect(ratio).toBeGreaterThan((target / m0) * (1 - 1e-6));
    expect(String(signalFor(res, 'big')!.signal.metrics.contribution_basis)).toMatch(/Euler/);
  });

  it('cornish_fisher: the re-measured VaR of the cut portfolio is at the target', () => {
    const m0 = cornishFisherVarRef(portfolio(W));
    // Control: the reference formula reproduces the engine's measure before any cut.
    expectNear(
      outcome(evaluate({ kind: 'var_limit', method: 'cornish_fisher', limit: 1 }), 'sz').measure,
      m0,
      1e-9,
    );
    const target = 0.85 * m0;
    const res = evaluate({
      kind: 'var_limit',
      method: 'cornish_fisher',
      limit: 0.9 * m0,
      target,
      action: { type: 'reduce', sizing: 'contribution' },
    });
    const r = ratiosOf(res);
    expect(r.big).toBeGreaterThan(0);
    expect(r.tiny).toBe(0);
    const after = cornishFisherVarRef(portfolio(cut(W, r)));
    expect(after).toBeLessThanOrEqual(target * (1 + 1e-9));
    expect(after).toBeGreaterThan(target * (1 - 1e-6));
  });
});

describe('contribution sizing for concentration', () => {
  const run = (rule: Record<string, unknown>, weights: Record<string, number>) =>
    new Runner(ruleSet([{ id: 'sz', kind: 'concentration', ...rule }])).step({
      snap: snapshot({ weights }),
      nowMs: T0_MS,
    });

  it('gross leverage 2.2× against 1.8× on a long/short book cuts only the largest position', () => {
    const w = { a: 1.2, b: -0.6, c: 0.4 };
    const res = run(
      { measure: 'gross_leverage', limit: 1.8, action: { type: 'reduce', sizing: 'contribution' } },
      w,
    );
    const r = { a: signalFor(res, 'a')?.signal.reduction_ratio ?? 0 };
    expectNear(r.a, 0.4 / 1.2);
    expect(signalFor(res, 'b')).toBeUndefined();
    expect(signalFor(res, 'c')).toBeUndefined();
    const after = Object.entries(cut(w, r)).reduce((s, [, x]) => s + Math.abs(x), 0);
    expectNear(after, 1.8);
    expect(signalFor(res, 'a')!.signal.metrics).toMatchObject({
      sizing: 'contribution',
      contribution_order: ['a'],
    });
    expect(validEvent(res)).toBe('');
  });

  it('gross leverage: a position too small for the excess is closed and the next one cut', () => {
    // Σ|w| = 2.2 against 1.0: the excess 1.2 closes a (0.9) and takes the remaining 0.3 from b.
    const w = { a: 0.9, b: -0.8, c: 0.5 };
    const res = run(
      { measure: 'gross_leverage', limit: 1.0, action: { type: 'reduce', sizing: 'contribution' } },
      w,
    );
    const r = Object.fromEntries(
      ['a', 'b', 'c'].map((id) => [id, signalFor(res, id)?.signal.reduction_ratio ?? 0]),
    );
    expect(signalFor(res, 'a')!.signal.action).toBe('exit');
    expectNear(r.b!, 0.3 / 0.8);
    expect(r.c).toBe(0);
    expectNear(
      Object.values(cut(w, r)).reduce((s, x) => s + Math.abs(x), 0),
      1.0,
    );
  });

  it('uniform gross leverage still cuts every strategy by 1 − target/Σ|w|', () => {
    const res = run({ measure: 'gross_leverage', limit: 1.8 }, { a: 1.2, b: -0.6, c: 0.4 });
    for (const id of ['a', 'b', 'c']) expectNear(signalFor(res, id)?.signal.reduction_ratio, 1 - 1.8 / 2.2);
  });

  it('herfindahl: the largest weight alone absorbs the excess, Σw² lands on the target', () => {
    const w = { a: 0.6, b: 0.3, c: 0.1 };
    const res = run(
      { measure: 'herfindahl', limit: 0.4, target: 0.3, action: { type: 'reduce', sizing: 'contribution' } },
      w,
    );
    const r = { a: signalFor(res, 'a')?.signal.reduction_ratio ?? 0 };
    expect(signalFor(res, 'b')).toBeUndefined();
    const after = Object.values(cut(w, r)).reduce((s, x) => s + x * x, 0);
    expectNear(after, 0.3);
  });
});

describe('validation refuses a sized reduce no position cut can honour, naming the rule', () => {
  const parse = (rule: Record<string, unknown>) => RuleSchema.safeParse({ id: 'my_rule', ...rule });
  const problem = (rule: Record<string, unknown>) => {
    const r = parse(rule);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };

  it.each(
    [
      { kind: 'volatility_regime', measure: 'vix_level', limit: 35 },
      { kind: 'volatility_regime', measure: 'vix_term_inversion', limit: 1.05 },
      { kind: 'correlation_breakdown', measure: 'turbulence_percentile', limit: 0.99 },
      { kind: 'liquidity', measure: 'spread_widening', limit: 2 },
      { kind: 'staleness', source: 'market', limit: 900 },
      { kind: 'staleness', source: 'snapshot', limit: 1800 },
      { kind: 'drawdown', limit: 0.1 },
    ].map((rule) => ({ name: `${rule.kind} ${rule.measure ?? rule.source ?? ''}`, rule })),
  )('$name: reduce (explicit or by default) is refused; exit and reduce_fixed pass', ({ rule }) => {
    expect(problem(rule)).toMatch(
      /^action: rule 'my_rule': .*no position cut moves this measure.*exit or reduce_fixed/,
    );
    expect(problem({ ...rule, action: { type: 'reduce', sizing: 'contribution' } })).toMatch(/my_rule/);
    expect(parse({ ...rule, action: { type: 'exit' } }).success).toBe(true);
    expect(parse({ ...rule, action: { type: 'reduce_fixed', ratio: 0.2 } }).success).toBe(true);
  });

  it.each([
    { kind: 'stress_drawdown', limit: 0.2 },
    { kind: 'liquidity', measure: 'adv_utilization', limit: 0.2 },
  ])('$kind: contribution is refused, uniform passes', (rule) => {
    expect(problem({ ...rule, action: { type: 'reduce', sizing: 'contribution' } })).toMatch(
      /^action: rule 'my_rule': .*no per-strategy contribution.*sizing: uniform/,
    );
    expect(parse({ ...rule, action: { type: 'reduce', sizing: 'uniform' } }).success).toBe(true);
  });

  it.each(['normal', 'student_t', 'cornish_fisher', 'historical'])(
    'var_limit %s accepts contribution',
    (method) => {
      expect(
        parse({ kind: 'var_limit', method, limit: 0.05, action: { type: 'reduce', sizing: 'contribution' } })
          .success,
      ).toBe(true);
    },
  );
});
