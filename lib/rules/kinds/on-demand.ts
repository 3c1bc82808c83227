import type { RuleKindEvaluator } from '../types.js';
import { concentration } from './concentration.js';
import { correlationBreakdown } from './correlation-breakdown.js';
import { drawdown } from './drawdown.js';
import type { OnDemandRuleKind } from './index.js';
import { liquidity } from './liquidity.js';
import { riskContribution } from './risk-contribution.js';
import { staleness } from './staleness.js';
import { seriesVarMethods } from './var-limit-series.js';
import { volatilityRegime } from './volatility-regime.js';

export { SharedMeasures } from '#lib/rules/shared-measures.js';
export { seriesVarMethods };

/**
 * The rule kinds the default rule set does not use, loaded together (with the VaR/ES series methods) by
 * `loadRuleKinds` the first time a rule set uses one (the mapped type makes a kind missing from both
 * tables a type error).
 */
export const onDemandRuleKinds: { [K in OnDemandRuleKind]: RuleKindEvaluator<K> } = {
  drawdown,
  concentration,
  volatility_regime: volatilityRegime,
  correlation_breakdown: correlationBreakdown,
  liquidity,
  staleness,
  risk_contribution: riskContribution,
};
