import type { RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { fanOut, freshMarket, marketEvidence, round, unavailable } from './shared.js';

function indicator(indicators: Record<string, number>, name: string): number | null {
  const v = indicators[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * `volatility_regime`: `vix_level` = the scope's `vix` indicator; `vix_term_inversion` =
 * `vix / vix3m` (above 1 the curve is inverted: near-term fear above longer-term). Missing or stale
 * market data (older than `marketMaxAgeMs`) yields null with the reason. Not homogeneous: a cut does
 * not move the VIX.
 */
export const volatilityRegime: RuleKindEvaluator<'volatility_regime'> = {
  kind: 'volatility_regime',
  homogeneous: false,
  measure: (rule, input) => {
    const scope = rule.market_scope;
    const lookup = freshMarket(input, scope);
    const head = { measure: rule.measure, ...marketEvidence(lookup, scope) };
    const build = (scopeKey: string, strategies: string[]): RuleMeasurement => {
      if (!lookup.ok) return unavailable(scopeKey, strategies, lookup.reason, head);
      const vix = indicator(lookup.view.indicators, 'vix');
      if (vix === null)
        return unavailable(scopeKey, strategies, `market scope '${scope}' has no 'vix' indicator`, head);
      if (rule.measure === 'vix_level')
        return { scopeKey, value: vix, strategies, evidence: Object.assign({}, head, { vix }) };
      const vix3m = indicator(lookup.view.indicators, 'vix3m');
      if (vix3m === null)
        return unavailable(scopeKey, strategies, `market scope '${scope}' has no 'vix3m' indicator`, {
          ...head,
          vix,
        });
      if (!(vix3m > 0))
        return unavailable(
          scopeKey,
          strategies,
          `market scope '${scope}' has a non-positive 'vix3m' (${vix3m})`,
          { ...head, vix },
        );
      return {
        scopeKey,
        value: vix / vix3m,
        strategies,
        evidence: Object.assign({}, head, { vix, vix3m, ratio: round(vix / vix3m) }),
      };
    };
    return fanOut(rule.scope, input.snapshot, build);
  },
};
