import { type Measures, sharedMeasuresOf } from '#lib/rules/shared-measures.js';
import type { RuleOf } from '../rule-schema.js';
import type { RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, round, unavailable, WORLD } from './shared.js';

/** Current drawdown of one return series over the rule's lookback, or why there is none. */
function measureSeries(
  rule: RuleOf<'drawdown'>,
  series: Float64Array | null | undefined,
  scopeKey: string,
  strategies: string[],
  what: string,
  shared: Measures,
): RuleMeasurement {
  const head = { lookback: rule.lookback ?? null };
  if (!series || series.length === 0)
    return unavailable(scopeKey, strategies, `no realized returns for ${what}`, head);
  // The window starts at the lookback's first return, whose opening equity is the first peak.
  const observations =
    rule.lookback !== undefined && series.length > rule.lookback ? rule.lookback : series.length;
  const dd = shared.drawdown(series, rule.lookback);
  return {
    scopeKey,
    value: dd.current,
    strategies,
    evidence: {
      lookback: head.lookback,
      observations,
      current_drawdown: round(dd.current),
      max_drawdown: round(dd.max),
    },
  };
}

/**
 * `drawdown`: realized current drawdown 1 − V_t / max_{s≤t} V_s on the compounded equity curve of
 * the portfolio series (world) or of each strategy's own returns (strategy), over the last
 * `lookback` returns. Not homogeneous: cutting exposure now does not undo a loss already realized.
 */
export const drawdown: RuleKindEvaluator<'drawdown'> = {
  kind: 'drawdown',
  homogeneous: false,
  measure: (rule, input) => {
    const { snapshot } = input;
    const shared = sharedMeasuresOf(input);
    if (rule.scope === 'world') {
      return [
        measureSeries(
          rule,
          snapshot.portfolioReturns,
          WORLD,
          heldStrategies(snapshot),
          'the portfolio',
          shared,
        ),
      ];
    }
    return snapshot.ids.map((id, i) =>
      measureSeries(rule, snapshot.returns?.[i], id, [id], `strategy '${id}'`, shared),
    );
  },
};
