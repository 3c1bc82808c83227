import type { Rule, RuleKind, RuleOf } from '../rule-schema.js';
import type { RuleInput, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { concentration } from './concentration.js';
import { correlationBreakdown } from './correlation-breakdown.js';
import { drawdown } from './drawdown.js';
import { liquidity } from './liquidity.js';
import { riskContribution } from './risk-contribution.js';
import { heldStrategies, unavailable, WORLD } from './shared.js';
import { staleness } from './staleness.js';
import { stressDrawdown } from './stress-drawdown.js';
import { esLimit, varLimit } from './var-limit.js';
import { volatilityRegime } from './volatility-regime.js';

/** Every rule kind's evaluator, keyed by kind (the mapped type makes a missing kind a type error). */
export const ruleKinds: { [K in RuleKind]: RuleKindEvaluator<K> } = {
  var_limit: varLimit,
  es_limit: esLimit,
  stress_drawdown: stressDrawdown,
  drawdown,
  concentration,
  volatility_regime: volatilityRegime,
  correlation_breakdown: correlationBreakdown,
  liquidity,
  staleness,
  risk_contribution: riskContribution,
};

function measureKind<K extends RuleKind>(rule: RuleOf<K>, input: RuleInput): RuleMeasurement[] {
  return (ruleKinds[rule.kind as K] as RuleKindEvaluator<K>).measure(rule, input);
}

/**
 * Measures one rule against the inputs. An exception from the math (an input the validators let
 * through) becomes a null measurement with the error as its reason, so one bad number fails this
 * rule closed instead of aborting the whole world's evaluation.
 */
export function measureRule(rule: Rule, input: RuleInput): RuleMeasurement[] {
  try {
    return measureKind(rule, input);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [
      unavailable(WORLD, heldStrategies(input.snapshot), `${rule.kind} measurement failed: ${message}`, {
        kind: rule.kind,
      }),
    ];
  }
}

export { MISSING_DATA_AGE_SEC } from './staleness.js';
