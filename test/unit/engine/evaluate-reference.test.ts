import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { episodeKey } from '#lib/engine/episodes.js';
import { type ApprovedCut, type EvaluationResult, evaluateRuleSet, type Mute } from '#lib/engine/evaluate.js';
import { mulberry32 } from '#lib/prng.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { loadRuleSetFile } from '#lib/rules/ruleset-loader.js';
import { randomMarket, randomSnapshot, randomWorld } from '#test/support/random-world.js';
import { referenceEvaluateRuleSet } from '#test/support/reference-engine/evaluate.js';
import { input } from '../rules/fixtures.js';
import { iso, ruleSet } from './harness.js';

// The optimized evaluation (shared measures, compiled rule set, lazy evidence, lean episode steps)
// must decide exactly as the straightforward one it replaced, kept in test/support/reference-engine:
// same audit rows, same episode states, same signals, on seeded random worlds evaluated in sequence
// (each result's episodes feed the next evaluation, so episodes open, escalate, repeat and clear).
// The reference measures with lib/risk's functions (PlainMeasures); the engine's market-structure
// kernels agree with them to rounding, so numbers match to 1e-12 relative (`sameUpToRounding`) and
// everything else exactly.

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Rules beyond the example: series-method contribution sizing, approval, lockout, time persistence. */
const EXTRA = ruleSet(
  [
    {
      id: 'hist_var_contrib',
      kind: 'var_limit',
      method: 'historical',
      confidence: 0.95,
      limit: 0.01,
      target: 0.008,
      action: { type: 'reduce', sizing: 'contribution' },
    },
    {
      id: 'cf_es_contrib',
      kind: 'es_limit',
      method: 'cornish_fisher',
      confidence: 0.99,
      limit: 0.02,
      clear: 0.015,
      action: { type: 'reduce', sizing: 'contribution' },
      mode: 'approval',
    },
    {
      id: 't_var_contrib',
      kind: 'var_limit',
      method: 'student_t',
      confidence: 0.99,
      limit: 0.018,
      action: { type: 'reduce', sizing: 'contribution' },
      lockout: '10m',
    },
    {
      id: 'normal_es_uniform',
      kind: 'es_limit',
      method: 'normal',
      confidence: 0.975,
      horizon: 5,
      limit: 0.03,
      action: { type: 'reduce', sizing: 'uniform' },
      cooldown: '5m',
    },
    {
      id: 'hist_es_strategy',
      kind: 'es_limit',
      method: 'historical',
      confidence: 0.9,
      scope: 'strategy',
      limit: 0.004,
    },
    {
      id: 'normal_var_strategy',
      kind: 'var_limit',
      method: 'normal',
      scope: 'strategy',
      limit: 0.006,
      action: { type: 'exit' },
    },
    {
      id: 't_var_strategy',
      kind: 'var_limit',
      method: 'student_t',
      scope: 'strategy',
      limit: 0.006,
      persistence: { for: '3m' },
    },
    {
      id: 'herfindahl_contrib',
      kind: 'concentration',
      measure: 'herfindahl',
      limit: 0.25,
      target: 0.2,
      action: { type: 'reduce', sizing: 'contribution' },
    },
    {
      id: 'gross_uniform',
      kind: 'concentration',
      measure: 'gross_leverage',
      limit: 1.2,
      action: { type: 'reduce', sizing: 'uniform' },
    },
    {
      id: 'dd_strategy_lookback',
      kind: 'drawdown',
      scope: 'strategy',
      lookback: 20,
      limit: 0.03,
      action: { type: 'reduce_fixed', ratio: 0.4 },
    },
    {
      id: 'vix_strategy',
      kind: 'volatility_regime',
      measure: 'vix_level',
      market_scope: 'global',
      scope: 'strategy',
      limit: 30,
      clear: 25,
      action: { type: 'exit' },
      mode: 'approval',
    },
    {
      id: 'adv_world',
      kind: 'liquidity',
      measure: 'adv_utilization',
      limit: 0.2,
      action: { type: 'reduce_fixed', ratio: 0.3 },
    },
    {
      id: 'spread_world',
      kind: 'liquidity',
      measure: 'spread_widening',
      short_window: 5,
      long_window: 20,
      limit: 1.5,
      action: { type: 'reduce_fixed', ratio: 0.3 },
    },
    {
      // Short blocks with fewer days than strategies: the engine decomposes the blocks' Gram matrices.
      id: 'absorption_short_blocks',
      kind: 'correlation_breakdown',
      measure: 'absorption_shift',
      short_window: 5,
      long_window: 40,
      limit: 1,
      action: { type: 'reduce_fixed', ratio: 0.2 },
    },
    {
      id: 'share_es',
      kind: 'risk_contribution',
      measure: 'es',
      limit: 0.5,
      target: 0.45,
      action: { type: 'reduce', sizing: 'contribution' },
    },
  ],
  'enforce',
);

/**
 * `expected` with each number replaced by `actual`'s number at the same place when the two agree to
 * 1e-12 relative (numbers below 0.01 in size to 1e-14 absolute), or when both are rounded to 12
 * significant digits and one unit in the last digit apart (a rounding straddling a boundary). The
 * result then goes through toStrictEqual, so structure, keys, strings and far numbers stay exact.
 */
function sameUpToRounding(expected: unknown, actual: unknown): unknown {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Object.is(expected, actual)) return expected;
    const size = Math.max(Math.abs(expected), Math.abs(actual));
    if (Math.abs(expected - actual) <= 1e-12 * Math.max(size, 0.01)) return actual;
    const twelve = (x: number) => Number(x.toPrecision(12)) === x;
    const unit = 10 ** (Math.floor(Math.log10(size)) - 11);
    return twelve(expected) && twelve(actual) && Math.abs(expected - actual) <= 1.001 * unit
      ? actual
      : expected;
  }
  if (Array.isArray(expected))
    return expected.map((x, i) => sameUpToRounding(x, Array.isArray(actual) ? actual[i] : undefined));
  if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    const out = Object.create(Object.getPrototypeOf(expected));
    for (const key of Object.keys(expected))
      out[key] = sameUpToRounding(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
      );
    return out;
  }
  return expected;
}

/** Runs both evaluations over one seeded world and asserts each step's results are identical. */
function compareSequence(rules: RuleSet, seed: number, steps: number, verdicts: Map<string, number>): void {
  const rand = mulberry32(seed);
  const world = randomWorld(rand);
  const refState = new Map<string, EpisodeState>();
  const optState = new Map<string, EpisodeState>();
  const approvedCuts: ApprovedCut[] = [];
  const mutes: Mute[] = [];
  let nowMs = Date.parse('2025-03-03T09:00:00Z');
  let version = 0;
  for (let step = 0; step < steps; step++) {
    nowMs += Math.floor(rand() * 40) * 60_000;
    // Sometimes the same snapshot again (a market-triggered re-evaluation): persistence must not count it.
    if (step === 0 || rand() < 0.8) version++;
    const vol = [0.5, 1, 2.5, 4][Math.floor(rand() * 4)]!;
    const asOfMs = nowMs - Math.floor(rand() * (rand() < 0.1 ? 3_600_000 : 120_000));
    const snap = randomSnapshot(mulberry32(seed * 1000 + version), world, {
      asOfMs,
      version: `v${version}`,
      vol,
    });
    if (rand() < 0.2) {
      const strategy = rand() < 0.5 ? world.ids[Math.floor(rand() * world.ids.length)] : undefined;
      const rule = rand() < 0.5 ? rules.rules[Math.floor(rand() * rules.rules.length)]!.id : undefined;
      mutes.push({
        mute_id: `m${step}`,
        world_id: 'example-world',
        ...(strategy ? { strategy_id: strategy } : {}),
        ...(rule ? { rule_id: rule } : {}),
        until: iso(nowMs + Math.floor(rand() * 90) * 60_000),
        reason: 'test',
        actor: 'ops',
      });
    }
    const args = {
      ruleSet: rules,
      input: input(snap, { market: randomMarket(rand, world, { asOfMs: nowMs, vol }), nowMs }),
      mutes,
      approvedCuts,
      now: iso(nowMs),
    };
    const ref: EvaluationResult = referenceEvaluateRuleSet({ ...args, episodes: refState });
    const opt: EvaluationResult = evaluateRuleSet({ ...args, episodes: optState });
    expect(opt.outcomes, `seed ${seed} step ${step}: outcomes`).toStrictEqual(
      sameUpToRounding(ref.outcomes, opt.outcomes),
    );
    expect(opt.episodes, `seed ${seed} step ${step}: episodes`).toStrictEqual(
      sameUpToRounding(ref.episodes, opt.episodes),
    );
    expect(opt.signals, `seed ${seed} step ${step}: signals`).toStrictEqual(
      sameUpToRounding(ref.signals, opt.signals),
    );
    for (const e of ref.episodes) refState.set(episodeKey(e.rule_id, e.scope_key), e);
    for (const e of opt.episodes) optState.set(episodeKey(e.rule_id, e.scope_key), e);
    for (const o of opt.outcomes) verdicts.set(o.verdict, (verdicts.get(o.verdict) ?? 0) + 1);
    for (const s of opt.signals) {
      verdicts.set(`signal:${s.signal.action}`, (verdicts.get(`signal:${s.signal.action}`) ?? 0) + 1);
      if (s.channel === 'approval' && s.signal.action !== 'hold' && rand() < 0.6)
        approvedCuts.push({
          strategy_id: s.signal.strategy_id,
          rule_ids: s.rule_ids,
          emitted_at: iso(nowMs),
        });
    }
  }
}

/** Every path of the episode machine the comparison must have walked through. */
const MUST_SEE = [
  'ok',
  'breach_pending',
  'fired',
  'escalated',
  'active',
  'cleared',
  'unavailable',
  'signal:hold',
  'signal:reduce',
  'signal:exit',
];

describe('evaluateRuleSet against the reference evaluation', () => {
  const example = loadRuleSetFile(join(ROOT, 'rulesets', 'example-all-kinds.yaml'));
  const combined: RuleSet = { ...example, rules: [...example.rules, ...EXTRA.rules] };

  it('decides exactly as the reference on seeded random worlds (example rule set)', () => {
    const verdicts = new Map<string, number>();
    for (let seed = 1; seed <= 16; seed++) compareSequence(example, seed, 6, verdicts);
    // The worlds must actually breach and clear, or the comparison proves little.
    for (const v of MUST_SEE) expect(verdicts.get(v), v).toBeGreaterThan(0);
  }, 120_000);

  it('decides exactly as the reference with series contribution sizing, approval and time rules', () => {
    const verdicts = new Map<string, number>();
    for (let seed = 101; seed <= 108; seed++) compareSequence(combined, seed, 6, verdicts);
    for (const v of [...MUST_SEE, 'locked_out', 'cooling_down', 'joined', 'unmuted'])
      expect(verdicts.get(v), v).toBeGreaterThan(0);
  }, 120_000);
});
