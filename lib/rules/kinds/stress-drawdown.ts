import type { RuleOf } from '../rule-schema.js';
import type { RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, unavailable, WORLD } from './shared.js';

type StressRule = RuleOf<'stress_drawdown'>;

/**
 * The rule's metric from one set of scenarios: the named scenario, or the worst (largest loss) of
 * those that report the metric. Evidence names the deciding scenario and lists every candidate.
 */
function pick(
  rule: StressRule,
  scenarios: Record<string, Record<string, number>>,
  scopeKey: string,
  strategies: string[],
  where: string,
): RuleMeasurement {
  const { metric, scenario } = rule;
  const head = { metric, scenario_rule: scenario };
  const names = Object.keys(scenarios).sort();
  if (names.length === 0) return unavailable(scopeKey, strategies, `no stress scenarios ${where}`, head);
  const values: Record<string, number> = {};
  for (const name of names) {
    const raw = scenarios[name]?.[metric];
    if (typeof raw === 'number' && Number.isFinite(raw)) values[name] = loss(metric, raw);
  }
  if (scenario !== 'worst') {
    if (!Object.hasOwn(scenarios, scenario)) {
      return unavailable(
        scopeKey,
        strategies,
        `stress scenario '${scenario}' not found ${where} (has: ${names.join(', ')})`,
        head,
      );
    }
    const value = values[scenario];
    if (value === undefined)
      return unavailable(
        scopeKey,
        strategies,
        `stress scenario '${scenario}' ${where} has no '${metric}'`,
        head,
      );
    return {
      scopeKey,
      value,
      strategies,
      evidence: Object.assign({}, head, { scenario, scenarios: values }),
    };
  }
  let worst: string | undefined;
  for (const name of Object.keys(values)) {
    // Names are sorted, so equal losses resolve to the alphabetically first scenario: deterministic.
    if (worst === undefined || values[name]! > values[worst]!) worst = name;
  }
  if (worst === undefined) {
    return unavailable(
      scopeKey,
      strategies,
      `no stress scenario ${where} reports '${metric}' (has: ${names.join(', ')})`,
      head,
    );
  }
  return {
    scopeKey,
    value: values[worst]!,
    strategies,
    evidence: Object.assign({}, head, { scenario: worst, scenarios: values }),
  };
}

/**
 * Losses are positive; a drawdown is a magnitude whatever sign its producer wrote (BRIEF §6 writes
 * DD_t = V_t/peak − 1 ≤ 0), while a negative scenario VaR/ES is a gain and is kept as it is.
 */
function loss(metric: StressRule['metric'], value: number): number {
  return metric === 'max_drawdown' ? Math.abs(value) : value;
}

/**
 * `stress_drawdown`: the hub's stress metric (`max_drawdown`, with `dd_max` already renamed;
 * `var_99`; `es_99`) for the named scenario or the worst one — from `stress.world` for the world,
 * from `stress.by_strategy[id]` per strategy. Homogeneous on the assumption the hub's scenarios are
 * shocks to the current positions (a scenario loss then scales with exposure); a multi-period
 * scenario path's drawdown is only approximately so.
 */
export const stressDrawdown: RuleKindEvaluator<'stress_drawdown'> = {
  kind: 'stress_drawdown',
  homogeneous: true,
  measure: (rule, { snapshot }) => {
    const { stress } = snapshot;
    if (rule.scope === 'world') {
      const strategies = heldStrategies(snapshot);
      const perStrategyOnly =
        Object.keys(stress.world).length === 0 && Object.keys(stress.by_strategy).length > 0;
      const where = perStrategyOnly
        ? 'for the world (the snapshot nests stress per strategy only)'
        : 'in the snapshot';
      return [pick(rule, stress.world, WORLD, strategies, where)];
    }
    return snapshot.ids.map((id) =>
      pick(rule, stress.by_strategy[id] ?? {}, id, [id], `for strategy '${id}'`),
    );
  },
};
