import { type EpisodeState, episodeKey } from '#lib/engine/episodes.js';
import {
  type ApprovedCut,
  type DecidedSignal,
  type EvaluationResult,
  evaluateRuleSet,
  type Mute,
} from '#lib/engine/evaluate.js';
import { loadAllRuleKinds } from '#lib/rules/kinds/index.js';
import { type RuleSet, RuleSetSchema } from '#lib/rules/rule-schema.js';
import type { MarketScopeView, PreparedSnapshot } from '#lib/rules/types.js';
import { input } from '../rules/fixtures.js';

// Scenarios use every rule kind; the engine loads the default set's others on first use (loadRuleKinds).
await loadAllRuleKinds();

/**
 * Scenario harness for the engine tests: drives `evaluateRuleSet` over a sequence of evaluations,
 * feeding each result's changed episodes back in as the next state, with an advancing clock.
 */

/** Start of every scenario's clock; evaluation k runs at T0 + k·STEP_MS unless a test says otherwise. */
export const T0_MS = Date.parse('2025-03-03T09:00:00Z');
export const STEP_MS = 60_000;
export const iso = (ms: number) => new Date(ms).toISOString();

// Closed-form constants, independent of the library: z₀.₉₉ = Φ⁻¹(0.99) and φ the standard normal density.
export const Z99 = 2.3263478740408408;
export const PHI = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
/** Normal ES multiple of σ at 99%: φ(z₀.₉₉)/0.01. */
export const ES_MULT_99 = PHI(Z99) / 0.01;

/** A rule set parsed through the real schema (defaults apply), with a fixed version. */
export function ruleSet(rules: Record<string, unknown>[], mode?: 'enforce' | 'approval' | 'shadow'): RuleSet {
  const def = RuleSetSchema.parse({ world: 'w1', ...(mode ? { mode } : {}), rules });
  return { ...def, version: 'sha256:rules-test', source: 'test' };
}

export interface StepInput {
  snap: PreparedSnapshot;
  market?: MarketScopeView[];
  nowMs: number;
}

/** Carries episode state across evaluations, as the store would. */
export class Runner {
  readonly state = new Map<string, EpisodeState>();
  readonly results: EvaluationResult[] = [];
  /** Approval-mode cuts ops have approved so far (what the engine reads from the signals table). */
  readonly approvedCuts: ApprovedCut[] = [];
  constructor(
    public rules: RuleSet,
    public mutes: Mute[] = [],
  ) {}

  step({ snap, market, nowMs }: StepInput): EvaluationResult {
    const result = evaluateRuleSet({
      ruleSet: this.rules,
      input: input(snap, { market: market ?? [], nowMs }),
      episodes: this.state,
      mutes: this.mutes,
      approvedCuts: this.approvedCuts,
      now: iso(nowMs),
    });
    for (const e of result.episodes) this.state.set(episodeKey(e.rule_id, e.scope_key), e);
    this.results.push(result);
    return result;
  }

  episode(ruleId: string, scopeKey = 'world'): EpisodeState | undefined {
    return this.state.get(episodeKey(ruleId, scopeKey));
  }
}

/** The outcome (audit row) of one rule and scope unit. */
export function outcome(result: EvaluationResult, ruleId: string, scopeKey = 'world') {
  const found = result.outcomes.find((o) => o.rule_id === ruleId && o.scope_key === scopeKey);
  if (!found) throw new Error(`no outcome for ${ruleId}#${scopeKey}`);
  return found;
}

/** The signal for one strategy in one channel, or undefined. */
export function signalFor(
  result: EvaluationResult,
  strategy: string,
  channel: DecidedSignal['channel'] = 'enforce',
): DecidedSignal | undefined {
  return result.signals.find((s) => s.channel === channel && s.signal.strategy_id === strategy);
}

/** Compact view of the signals: "channel:strategy:action:ratio". */
export function summary(result: EvaluationResult): string[] {
  return result.signals.map(
    (s) => `${s.channel}:${s.signal.strategy_id}:${s.signal.action}:${s.signal.reduction_ratio}`,
  );
}

/** σ_P = √(wᵀΣw) for a dense matrix, written out here so sizing checks do not use the library. */
export function sigmaOf(w: number[], cov: number[][]): number {
  let v = 0;
  for (let i = 0; i < w.length; i++) for (let j = 0; j < w.length; j++) v += w[i]! * cov[i]![j]! * w[j]!;
  return Math.sqrt(v);
}

/** Relative closeness within `tol` (absolute for values near 0). */
export function expectNear(actual: number | null | undefined, expected: number, tol = 1e-9): void {
  if (actual === null || actual === undefined) throw new Error(`expected ${expected}, got ${actual}`);
  const scale = Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol * scale)) {
    throw new Error(`expected ${actual} to be within ${tol} of ${expected}`);
  }
}
