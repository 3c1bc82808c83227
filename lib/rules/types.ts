import type { MarketScopeView } from '#lib/contracts/market-snapshot.js';
import type { NormalizedStress } from '#lib/contracts/risk-snapshot.js';
import type { Rule, RuleKind, RuleOf } from './rule-schema.js';
import type { Measures } from './shared-measures.js';

/** Defined by the market contract (contracts import nothing from rules); re-exported for the rules. */
export type { MarketScopeView };

/** A snapshot made ready for the risk math: ids in a fixed order, dense arrays, variants resolved. */
export interface PreparedSnapshot {
  world_id: string;
  as_of: string;
  asOfMs: number;
  version: string;
  hash: string | undefined;
  createdAtMs: number;
  expiresAtMs: number;
  stage: string | undefined;
  /** `provenance.actor`, for rules with `when: {actor: …}`. */
  actor?: string;
  /** Strategy ids, sorted, so results never depend on the order of the input maps. */
  ids: string[];
  weights: Float64Array;
  /** Row-major n×n covariance in `ids` order, or null when neither the snapshot nor returns give one. */
  covariance: Float64Array | null;
  covarianceSource: 'snapshot' | 'sample' | 'none';
  /** Realized returns per strategy (aligned to a common length, oldest first), or null. */
  returns: Float64Array[] | null;
  /** The portfolio's return series r_t = Σ wᵢ rᵢ,t, or the bare series upstream sent. */
  portfolioReturns: Float64Array | null;
  stress: NormalizedStress;
  constraints: Record<string, unknown>;
  /** Data-quality notes that did not stop the evaluation (recorded in the audit trail). */
  warnings: string[];
}

/** Everything a rule may look at; time is passed in, never read from a clock. */
export interface RuleInput {
  snapshot: PreparedSnapshot;
  market: ReadonlyMap<string, MarketScopeView>;
  nowMs: number;
  /** Market data older than this is stale and not used by market rules. */
  marketMaxAgeMs: number;
  /** What rules of this evaluation share (moments, tails, drawdowns); made per evaluation by the engine. */
  shared?: Measures;
}

/** One number a rule measured for one scope unit (the world, or one strategy). */
export interface RuleMeasurement {
  /** `world`, or the strategy id for strategy-scoped rules. */
  scopeKey: string;
  /** The measure in the rule's units (positive = worse), or null when the inputs do not allow it. */
  value: number | null;
  /** Why `value` is null (recorded, never silently passed). */
  unavailable?: string;
  /** Strategies an action on this measurement applies to. */
  strategies: string[];
  /**
   * Per-strategy reduction ratios that bring the measure back to the target, for kinds that can
   * size by contribution; absent means uniform sizing applies.
   */
  contributionSizing?: {
    ratios: Record<string, number>;
    after: number;
    /** False when cutting every contributor still leaves the measure above the target. */
    reached?: boolean;
    /** Strategies in the order they were cut. */
    order?: string[];
  };
  /** Why a requested contribution sizing could not be computed from these inputs (the engine then cuts uniformly and says so). */
  contributionUnavailable?: string;
  /** The kind's own exact uniform-policy cut, where "every strategy by 1 − target/measure" is not exact. */
  uniformSizing?: { ratios: Record<string, number>; after: number };
  /** Supporting numbers for the audit trail and the signal's `metrics`. */
  evidence: Record<string, unknown>;
}

/** How one rule kind measures; the engine does breach logic, sizing, episodes and merging. */
export interface RuleKindEvaluator<K extends RuleKind> {
  kind: K;
  measure(rule: RuleOf<K>, input: RuleInput): RuleMeasurement[];
  /** True when cutting every weight by r scales the measure by (1 − r), so uniform sizing is exact. */
  homogeneous: boolean;
}

export type AnyRuleKindEvaluator = { [K in RuleKind]: RuleKindEvaluator<K> }[RuleKind];
export type { Rule };
