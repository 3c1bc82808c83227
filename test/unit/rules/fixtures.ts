import type { NormalizedStress } from '#lib/contracts/risk-snapshot.js';
import { type RuleKind, type RuleOf, RuleSchema } from '#lib/rules/rule-schema.js';
import type { MarketScopeView, PreparedSnapshot, RuleInput } from '#lib/rules/types.js';

/** Evaluation time used by the rule tests unless a test says otherwise. */
export const NOW = '2025-01-01T00:10:00Z';
export const NOW_MS = Date.parse(NOW);

export interface SnapshotSpec {
  weights: Record<string, number>;
  /** Flat map keyed "a,b" (either order), as upstream sends it. */
  covariance?: Record<string, number>;
  returns?: Record<string, number[]>;
  /** A bare portfolio series (upstream's `number[]` form); otherwise Σ wᵢ rᵢ,t from `returns`. */
  portfolioReturns?: number[];
  stress?: Partial<NormalizedStress>;
  constraints?: Record<string, unknown>;
  asOf?: string;
  ttlSec?: number;
}

/**
 * A PreparedSnapshot built by hand — ids sorted, dense arrays — without going through the engine's
 * preparation code, so a rule test depends only on the rule kind under test.
 */
export function snapshot(spec: SnapshotSpec): PreparedSnapshot {
  const ids = Object.keys(spec.weights).sort();
  const n = ids.length;
  const weights = Float64Array.from(ids.map((id) => spec.weights[id]!));
  let covariance: Float64Array | null = null;
  if (spec.covariance) {
    covariance = new Float64Array(n * n);
    for (const [key, value] of Object.entries(spec.covariance)) {
      const [a, b] = key.split(',') as [string, string];
      const i = ids.indexOf(a);
      const j = ids.indexOf(b);
      covariance[i * n + j] = value;
      covariance[j * n + i] = value;
    }
  }
  let returns: Float64Array[] | null = null;
  let portfolioReturns: Float64Array | null = spec.portfolioReturns
    ? Float64Array.from(spec.portfolioReturns)
    : null;
  if (spec.returns) {
    returns = ids.map((id) => Float64Array.from(spec.returns?.[id] ?? []));
    if (!portfolioReturns) {
      const t = Math.min(...returns.map((r) => r.length));
      portfolioReturns = new Float64Array(t);
      for (let k = 0; k < t; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += weights[i]! * returns[i]![returns[i]!.length - t + k]!;
        portfolioReturns[k] = s;
      }
    }
  }
  const asOf = spec.asOf ?? '2025-01-01T00:00:00Z';
  const asOfMs = Date.parse(asOf);
  return {
    world_id: 'w1',
    as_of: asOf,
    asOfMs,
    version: 'v1',
    hash: 'sha256:test',
    createdAtMs: asOfMs,
    expiresAtMs: asOfMs + (spec.ttlSec ?? 900) * 1000,
    stage: 'paper',
    ids,
    weights,
    covariance,
    covarianceSource: covariance ? 'snapshot' : 'none',
    returns,
    portfolioReturns,
    stress: { world: spec.stress?.world ?? {}, by_strategy: spec.stress?.by_strategy ?? {} },
    constraints: spec.constraints ?? {},
    warnings: [],
  };
}

/** A market scope view with the given indicators and series. */
export function marketView(
  scope: string,
  asOf: string,
  indicators: Record<string, number> = {},
  series: Record<string, Record<string, number[]>> = {},
): MarketScopeView {
  return { scope, as_of: asOf, asOfMs: Date.parse(asOf), indicators, series };
}

/** The input a rule sees: the snapshot, market views by scope, now, and the market freshness limit. */
export function input(
  snap: PreparedSnapshot,
  opts: { market?: MarketScopeView[]; nowMs?: number; marketMaxAgeMs?: number } = {},
): RuleInput {
  return {
    snapshot: snap,
    market: new Map((opts.market ?? []).map((v) => [v.scope, v])),
    nowMs: opts.nowMs ?? NOW_MS,
    marketMaxAgeMs: opts.marketMaxAgeMs ?? 15 * 60_000,
  };
}

/** Kinds whose measure no position cut moves: the schema refuses them the default sized reduce. */
const FIXED_ACTION_KINDS = new Set<string>([
  'drawdown',
  'volatility_regime',
  'correlation_breakdown',
  'liquidity',
  'staleness',
]);

/**
 * A rule parsed through the real schema, so defaults apply exactly as in a rule set. The measure
 * tests do not care about the action: kinds a cut cannot move get `reduce_fixed` unless one is given.
 */
export function rule<K extends RuleKind>(raw: { kind: K } & Record<string, unknown>): RuleOf<K> {
  const action =
    raw.action === undefined && FIXED_ACTION_KINDS.has(raw.kind)
      ? { action: { type: 'reduce_fixed', ratio: 0.5 } }
      : {};
  return RuleSchema.parse({ id: `test_${raw.kind}`, ...action, ...raw }) as RuleOf<K>;
}

/** The single measurement of a world-scoped rule. */
export function only<T>(list: T[]): T {
  if (list.length !== 1) throw new Error(`expected one measurement, got ${list.length}`);
  return list[0]!;
}
