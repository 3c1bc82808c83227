import { grossLeverageCut, herfindahlCut } from '#lib/risk/series-sizing.js';
import type { RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, round, unavailable, WORLD } from './shared.js';

type ConcentrationRule = RuleOf<'concentration'>;

/** `constraints.max_leverage` when the hub sent a usable number. */
function maxLeverage(snapshot: PreparedSnapshot): number | null {
  const v = snapshot.constraints.max_leverage;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Uniform cut ratio r over every held strategy. */
function uniformRatios(strategies: string[], r: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of strategies) out[id] = r;
  return out;
}

function world(rule: ConcentrationRule, snapshot: PreparedSnapshot): RuleMeasurement {
  const { ids, weights } = snapshot;
  const strategies = heldStrategies(snapshot);
  const target = rule.target ?? rule.limit;
  let maxAbs = 0;
  let argMax: string | null = null;
  let gross = 0;
  let net = 0;
  let hhi = 0;
  ids.forEach((id, i) => {
    const w = weights[i]!;
    const a = Math.abs(w);
    if (a > maxAbs) {
      maxAbs = a;
      argMax = id;
    }
    gross += a;
    net += w;
    hhi += w * w;
  });
  const evidence: Record<string, unknown> = {
    measure: rule.measure,
    max_weight: round(maxAbs),
    max_weight_strategy: argMax,
    herfindahl: round(hhi),
    gross_leverage: round(gross),
    net_exposure: round(net),
  };
  const cap = maxLeverage(snapshot);
  if (cap !== null) evidence.max_leverage = cap;
  const value = rule.measure === 'max_weight' ? maxAbs : rule.measure === 'herfindahl' ? hhi : gross;
  const m: RuleMeasurement = { scopeKey: WORLD, value, strategies, evidence };
  if (value > target && value > 0) {
    // Exact smallest uniform-policy cuts: max |w| by trimming only the strategies above the target,
    // Σ|w| uniformly, and Σw² (degree 2 in the weights) uniformly by 1 − √(target/H), not 1 − target/H.
    const trimmed: Record<string, number> = {};
    ids.forEach((id, i) => {
      const a = Math.abs(weights[i]!);
      if (a > target) trimmed[id] = 1 - target / a;
    });
    if (rule.measure === 'max_weight') {
      m.uniformSizing = { ratios: trimmed, after: target };
    } else if (rule.measure === 'herfindahl') {
      m.uniformSizing = { ratios: uniformRatios(strategies, 1 - Math.sqrt(target / hhi)), after: target };
    } else {
      m.uniformSizing = { ratios: uniformRatios(strategies, 1 - target / gross), after: target };
    }
    if (rule.action.type === 'reduce' && rule.action.sizing === 'contribution') {
      // Largest exposures first: only they are cut, each by as little as the remaining excess needs.
      if (rule.measure === 'max_weight') {
        m.contributionSizing = { ratios: trimmed, after: target, reached: true };
      } else {
        const cut =
          rule.measure === 'herfindahl' ? herfindahlCut(weights, target) : grossLeverageCut(weights, target);
        const ratios: Record<string, number> = {};
        ids.forEach((id, i) => {
          if (cut.ratios[i]! > 0) ratios[id] = cut.ratios[i]!;
        });
        m.contributionSizing = {
          ratios,
          after: cut.after,
          reached: cut.reached,
          order: cut.order.map((i) => ids[i]!),
        };
      }
    }
  }
  return m;
}

/**
 * `concentration`: `max_weight` = max |wᵢ| (world) or |wᵢ| (per strategy); `herfindahl` = Σwᵢ²;
 * `gross_leverage` = Σ|wᵢ|, with `constraints.max_leverage` in the evidence when the hub sent it.
 * Herfindahl and gross leverage are world measures. Not homogeneous as a kind (Σw² scales by
 * (1 − r)²), so every breach carries its exact uniform-policy cut in `uniformSizing`, and, for
 * `sizing: contribution`, the largest-exposure-first cut in `contributionSizing`.
 */
export const concentration: RuleKindEvaluator<'concentration'> = {
  kind: 'concentration',
  homogeneous: false,
  measure: (rule, { snapshot }) => {
    if (rule.scope === 'world') return [world(rule, snapshot)];
    return snapshot.ids.map((id, i) => {
      const w = snapshot.weights[i]!;
      if (rule.measure !== 'max_weight') {
        return unavailable(
          id,
          [id],
          `${rule.measure} is a world measure; use scope: world (or measure: max_weight per strategy)`,
          {
            measure: rule.measure,
            weight: w,
          },
        );
      }
      const value = Math.abs(w);
      const target = rule.target ?? rule.limit;
      const m: RuleMeasurement = {
        scopeKey: id,
        value,
        strategies: [id],
        evidence: { measure: rule.measure, weight: w },
      };
      if (value > target) {
        const own = { ratios: { [id]: 1 - target / value }, after: target };
        m.uniformSizing = own;
        m.contributionSizing = Object.assign({}, own, { reached: true });
      }
      return m;
    });
  },
};
