import type { MarketScopeView, PreparedSnapshot, RuleInput, RuleMeasurement } from '../types.js';

/** The scope key of a world-wide measurement. */
export const WORLD = 'world';

/** Strategies a world-wide action applies to: those holding capital (a zero weight has nothing to cut). */
export function heldStrategies(snapshot: PreparedSnapshot): string[] {
  const out: string[] = [];
  snapshot.ids.forEach((id, i) => {
    if (snapshot.weights[i] !== 0) out.push(id);
  });
  return out;
}

/** A measurement the inputs do not allow: null with the reason, never a silent pass. */
export function unavailable(
  scopeKey: string,
  strategies: string[],
  reason: string,
  evidence: Record<string, unknown> = {},
): RuleMeasurement {
  return {
    scopeKey,
    value: null,
    unavailable: reason,
    strategies,
    // Object.assign, not `{...evidence, unavailable}`: on Node 20 a spread followed by more properties
    // builds a fresh hidden class per object, microseconds each on the evaluation's hot path.
    evidence: Object.assign({}, evidence, { unavailable: reason }),
  };
}

/** The market view for a scope when present and fresh, else why it cannot be used. */
export type MarketLookup =
  | { ok: true; view: MarketScopeView; ageSec: number }
  | { ok: false; reason: string; ageSec: number | null; view: MarketScopeView | undefined };

/** Looks up a market scope and applies the freshness limit (`marketMaxAgeMs` at `nowMs`). */
export function freshMarket(input: RuleInput, scope: string): MarketLookup {
  const view = input.market.get(scope);
  if (!view) return { ok: false, reason: `no market data for scope '${scope}'`, ageSec: null, view };
  const ageMs = input.nowMs - view.asOfMs;
  const ageSec = ageMs / 1000;
  if (!Number.isFinite(view.asOfMs))
    return { ok: false, reason: `market scope '${scope}' has no valid as_of`, ageSec: null, view };
  if (ageMs > input.marketMaxAgeMs) {
    return {
      ok: false,
      reason: `market data for scope '${scope}' is stale: ${round(ageSec)} s old, limit ${round(input.marketMaxAgeMs / 1000)} s`,
      ageSec,
      view,
    };
  }
  return { ok: true, view, ageSec };
}

/** Evidence about the market data a measure used. */
export function marketEvidence(lookup: MarketLookup, scope: string): Record<string, unknown> {
  return {
    market_scope: scope,
    market_as_of: lookup.view?.as_of ?? null,
    market_age_sec: lookup.ageSec === null ? null : round(lookup.ageSec),
  };
}

/** 10^k for k = 0..22: every one exact in binary64. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * Rounds to 12 significant digits so evidence is stable and readable, never -0: exactly
 * `Number(x.toPrecision(12))`, which costs a string round trip (~0.3 µs; an evaluation rounds a few
 * hundred numbers). The fast path scales |x| to a 12-digit integer m, rounds it, and divides by the
 * exact power of ten: one correctly rounded division, the same double the decimal string parses to.
 * The product's rounding error is below 2⁻¹³, so away from a tie (and from the ends of the 12-digit
 * range, where log10 may be off by one) the rounded integer is the one toPrecision picks; anything
 * else takes the string path (test/unit/rules/round.test.ts checks both agree).
 */
export function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x === 0 ? 0 : x;
  const a = x < 0 ? -x : x;
  const k = 11 - Math.floor(Math.log10(a));
  if (k >= -22 && k <= 22) {
    const f = k >= 0 ? a * POW10[k]! : a / POW10[-k]!;
    if (f >= 1e11 && f < 999_999_999_999) {
      const floor = Math.floor(f);
      const frac = f - floor;
      if (frac < 0.499 || frac > 0.501) {
        const m = frac > 0.5 ? floor + 1 : floor;
        const r = k >= 0 ? m / POW10[k]! : m * POW10[-k]!;
        return x < 0 ? -r : r;
      }
    }
  }
  const r = Number(x.toPrecision(12));
  return r === 0 ? 0 : r;
}

/**
 * One measurement for the world, or the same measurement once per strategy when the rule is
 * strategy-scoped (a world-wide number such as VIX then yields one signal per strategy).
 */
export function fanOut(
  scope: 'world' | 'strategy',
  snapshot: PreparedSnapshot,
  build: (scopeKey: string, strategies: string[]) => RuleMeasurement,
): RuleMeasurement[] {
  if (scope === 'world') return [build(WORLD, heldStrategies(snapshot))];
  return snapshot.ids.map((id) => build(id, [id]));
}

/** A rule was measured before the code for its kind (or method) was loaded: a wiring bug, never a rule passed over. */
export class RuleKindNotLoadedError extends Error {
  override readonly name = 'RuleKindNotLoadedError';
  constructor(
    readonly kind: string,
    readonly method?: string,
  ) {
    super(
      `rule kind '${kind}'${method === undefined ? '' : ` by method '${method}'`} is not loaded: await loadRuleKinds() for the rule set before measuring it`,
    );
  }
}
