import { deterioration } from '#lib/risk/liquidity.js';
import type { RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleInput, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { freshMarket, heldStrategies, marketEvidence, round, unavailable, WORLD } from './shared.js';

type LiquidityRule = RuleOf<'liquidity'>;
type PerStrategy = { value: number; evidence: Record<string, unknown> } | { value: null; reason: string };

/** Spread or Amihud deterioration (short-window mean over long-window mean) for one strategy's market series. */
function ratioFor(
  rule: LiquidityRule,
  series: Record<string, number[]> | undefined,
  id: string,
): PerStrategy {
  const { short_window: short, long_window: long } = rule;
  if (rule.measure === 'spread_widening') {
    const spread = series?.spread;
    if (!spread) return { value: null, reason: `no 'spread' series for '${id}'` };
    if (spread.length < long)
      return {
        value: null,
        reason: `'spread' series for '${id}' has ${spread.length} values, needs ${long}`,
      };
    const ratio = deterioration(spread, short, long);
    if (!Number.isFinite(ratio))
      return { value: null, reason: `'spread' series for '${id}' averages 0 over the long window` };
    return {
      value: ratio,
      evidence: { spread_short: round(mean(spread, short)), spread_long: round(mean(spread, long)) },
    };
  }
  const returns = series?.returns;
  const volume = series?.dollar_volume;
  if (!returns || !volume)
    return { value: null, reason: `no 'returns' and 'dollar_volume' series for '${id}'` };
  const n = Math.min(returns.length, volume.length);
  if (n < long)
    return { value: null, reason: `'returns'/'dollar_volume' for '${id}' share ${n} values, needs ${long}` };
  const shortValue = latestAmihud(returns, volume, short);
  const longValue = latestAmihud(returns, volume, long);
  if (!(longValue > 0) || !Number.isFinite(shortValue)) {
    return {
      value: null,
      reason: `Amihud illiquidity for '${id}' is undefined (no traded volume or no price moves over the window)`,
    };
  }
  return { value: shortValue / longValue, evidence: { amihud_short: shortValue, amihud_long: longValue } };
}

/**
 * `amihud` of the last `window` returns and dollar volumes (both series end at the same, latest
 * period; aligned there), read in place rather than from copies of the windows: same sum, same order.
 */
function latestAmihud(returns: readonly number[], volume: readonly number[], window: number): number {
  const r0 = returns.length - window;
  const v0 = volume.length - window;
  let sum = 0;
  let days = 0;
  for (let t = 0; t < window; t++) {
    const dv = volume[v0 + t]!;
    if (dv > 0) {
      sum += Math.abs(returns[r0 + t]!) / dv;
      days++;
    }
  }
  return days > 0 ? sum / days : Number.NaN;
}

/** The latest `adv_util` market value, or the hub's `constraints.adv_util_p95` (a number, or a map per strategy). */
function advFromConstraints(snapshot: PreparedSnapshot, id: string | null): number | null {
  const raw = snapshot.constraints.adv_util_p95;
  if (typeof raw === 'number' && Number.isFinite(raw)) return id === null ? raw : null;
  if (id !== null && raw && typeof raw === 'object') {
    const v = (raw as Record<string, unknown>)[id];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

function advFor(
  snapshot: PreparedSnapshot,
  series: Record<string, number[]> | undefined,
  id: string,
): PerStrategy {
  const fromHub = advFromConstraints(snapshot, id);
  if (fromHub !== null) return { value: fromHub, evidence: { source: 'constraints.adv_util_p95' } };
  const latest = series?.adv_util?.at(-1);
  if (latest === undefined || !Number.isFinite(latest))
    return { value: null, reason: `no ADV utilization for '${id}'` };
  return { value: latest, evidence: { source: 'market.adv_util' } };
}

function mean(series: readonly number[], window: number): number {
  let s = 0;
  for (let t = series.length - window; t < series.length; t++) s += series[t]!;
  return s / window;
}

function measureLiquidity(rule: LiquidityRule, input: RuleInput): RuleMeasurement[] {
  const { snapshot } = input;
  const scope = rule.market_scope;
  const lookup = freshMarket(input, scope);
  const head: Record<string, unknown> = {
    measure: rule.measure,
    short_window: rule.short_window,
    long_window: rule.long_window,
    ...marketEvidence(lookup, scope),
  };
  // The hub's world-level p95 needs no market data at all.
  const hubWorldAdv = rule.measure === 'adv_utilization' ? advFromConstraints(snapshot, null) : null;
  if (rule.scope === 'world' && hubWorldAdv !== null) {
    return [
      {
        scopeKey: WORLD,
        value: hubWorldAdv,
        strategies: heldStrategies(snapshot),
        evidence: Object.assign({}, head, { source: 'constraints.adv_util_p95' }),
      },
    ];
  }
  const perStrategy = (id: string): PerStrategy => {
    if (rule.measure === 'adv_utilization') {
      const fromHub = advFromConstraints(snapshot, id);
      if (fromHub !== null) return { value: fromHub, evidence: { source: 'constraints.adv_util_p95' } };
      if (!lookup.ok) return { value: null, reason: lookup.reason };
      return advFor(snapshot, lookup.view.series[id], id);
    }
    if (!lookup.ok) return { value: null, reason: lookup.reason };
    return ratioFor(rule, lookup.view.series[id], id);
  };

  if (rule.scope === 'strategy') {
    return snapshot.ids.map((id) => {
      const r = perStrategy(id);
      if (r.value === null) return unavailable(id, [id], r.reason, head);
      return {
        scopeKey: id,
        value: r.value,
        strategies: [id],
        evidence: Object.assign({}, head, r.evidence),
      };
    });
  }

  // World: ADV utilization is the worst strategy's (a tail, like the hub's p95); the deterioration
  // ratios are |w|-weighted over the strategies with data, with the covered weight share reported.
  const strategies = heldStrategies(snapshot);
  if (!lookup.ok) return [unavailable(WORLD, strategies, lookup.reason, head)];
  const values: Record<string, number> = {};
  const missing: string[] = [];
  let weighted = 0;
  let covered = 0;
  let total = 0;
  let worst: string | null = null;
  for (const id of strategies) {
    const a = Math.abs(snapshot.weights[snapshot.ids.indexOf(id)]!);
    total += a;
    const r = perStrategy(id);
    if (r.value === null) {
      missing.push(id);
      continue;
    }
    values[id] = round(r.value);
    weighted += a * r.value;
    covered += a;
    if (worst === null || r.value > values[worst]!) worst = id;
  }
  const evidence = Object.assign({}, head, { per_strategy: values, missing });
  if (worst === null)
    return [
      unavailable(WORLD, strategies, `no strategy has the market series '${rule.measure}' needs`, evidence),
    ];
  if (rule.measure === 'adv_utilization') {
    return [
      {
        scopeKey: WORLD,
        value: values[worst]!,
        strategies,
        evidence: Object.assign({}, evidence, { source: 'market.adv_util', worst_strategy: worst }),
      },
    ];
  }
  return [
    {
      scopeKey: WORLD,
      value: weighted / covered,
      strategies,
      evidence: Object.assign({}, evidence, {
        aggregation: 'abs_weight_mean',
        covered_weight_share: round(covered / total),
      }),
    },
  ];
}

/**
 * `liquidity`: `spread_widening` = mean relative spread over the last `short_window` periods ÷ over
 * the last `long_window`; `amihud_deterioration` = Amihud |r|/dollar-volume, short ÷ long;
 * `adv_utilization` = `constraints.adv_util_p95` when the hub sent it, else the latest market
 * `adv_util`. Market series are per strategy id in `market_scope`. Not homogeneous as a kind: only
 * ADV utilization moves with the size of the positions.
 */
export const liquidity: RuleKindEvaluator<'liquidity'> = {
  kind: 'liquidity',
  homogeneous: false,
  measure: measureLiquidity,
};
