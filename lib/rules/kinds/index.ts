import type { Measures } from '#lib/rules/shared-measures.js';
import type { Rule, RuleKind, RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleInput, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, RuleKindNotLoadedError, unavailable, WORLD } from './shared.js';
import { stressDrawdown } from './stress-drawdown.js';
import { esLimit, isBuiltInVarMethod, provideSeriesMethods, varLimit } from './var-limit.js';

/** Every rule kind's evaluator, keyed by kind (the mapped type makes a missing kind a type error). */
export type RuleKindEvaluators = { [K in RuleKind]: RuleKindEvaluator<K> };

/**
 * The kinds of the bundled default rule set (rulesets/default.yaml; VaR and ES by the normal method):
 * loaded with the engine, so a world on the default set evaluates without loading anything more. Every
 * other kind, and the VaR/ES series methods, are in `on-demand.ts`, a module of its own (a chunk of the
 * Lambda bundles) that the engine loads the first time a rule set uses one of them (`loadRuleKinds`),
 * so a cold start that never meets one never parses their code.
 */
const builtIn = { var_limit: varLimit, es_limit: esLimit, stress_drawdown: stressDrawdown } as const;

/** The kinds loaded only when a rule set uses one (`loadRuleKinds`). */
export type OnDemandRuleKind = Exclude<RuleKind, keyof typeof builtIn>;

const loaded: Partial<RuleKindEvaluators> = { ...builtIn };

export { RuleKindNotLoadedError };

/** What decides the code a rule is measured by (a rule as written or resolved, overrides aside). */
type MeasuredBy = { kind: RuleKind; method?: unknown };

/** Whether measuring `rule` needs on-demand code: a kind, or a VaR/ES method, the default set lacks. */
export function needsOnDemandCode(rule: MeasuredBy): boolean {
  if (rule.kind === 'var_limit' || rule.kind === 'es_limit') return !isBuiltInVarMethod(rule.method);
  return !(rule.kind in builtIn);
}

/**
 * Loads what measuring `rules` needs beyond the built-in kinds (all on-demand code comes together, once),
 * so `measureRule` can measure every rule of a rule set. Resolves at once when nothing is missing.
 */
export async function loadRuleKinds(rules: Iterable<MeasuredBy>): Promise<void> {
  if (measuresOf !== undefined) return;
  for (const rule of rules) if (needsOnDemandCode(rule)) return void (await loadOnDemand());
}

/** Loads every kind and method and returns the whole table (tools and tests that measure any kind). */
export async function loadAllRuleKinds(): Promise<RuleKindEvaluators> {
  const { onDemandRuleKinds } = await loadOnDemand();
  return { ...builtIn, ...onDemandRuleKinds };
}

let onDemandModule: Promise<typeof import('./on-demand.js')> | undefined;

/** Imports the on-demand module and registers what it holds, once however many callers ask at a time. */
function loadOnDemand() {
  if (onDemandModule === undefined) {
    const loading = import('./on-demand.js').then((onDemand) => {
      Object.assign(loaded, onDemand.onDemandRuleKinds);
      provideSeriesMethods(onDemand.seriesVarMethods);
      measuresOf = (snapshot) => new onDemand.SharedMeasures(snapshot);
      return onDemand;
    });
    // A failed import is tried again by the next caller (the retried invocation), not remembered.
    loading.catch(() => {
      onDemandModule = undefined;
    });
    onDemandModule = loading;
  }
  return onDemandModule;
}

/** Set once the on-demand module is registered (so also: whether it is). */
let measuresOf: ((snapshot: PreparedSnapshot) => Measures) | undefined;

/**
 * The measures one evaluation's rules share (rules/shared-measures.ts): only on-demand code reads them
 * (the built-in kinds measure no return series), so they come with it, and none before it is loaded.
 */
export function evaluationMeasures(snapshot: PreparedSnapshot): Measures | undefined {
  return measuresOf?.(snapshot);
}

function evaluatorOf<K extends RuleKind>(kind: K): RuleKindEvaluator<K> {
  const evaluator = loaded[kind] as RuleKindEvaluator<K> | undefined;
  if (evaluator === undefined) throw new RuleKindNotLoadedError(kind);
  return evaluator;
}

/**
 * Measures one rule against the inputs. An exception from the math (an input the validators let
 * through) becomes a null measurement with the error as its reason, so one bad number fails this
 * rule closed instead of aborting the whole world's evaluation. A kind not loaded throws
 * `RuleKindNotLoadedError` (the evaluation fails and is retried; no rule is skipped).
 */
export function measureRule(rule: Rule, input: RuleInput): RuleMeasurement[] {
  const evaluator = evaluatorOf(rule.kind);
  try {
    return evaluator.measure(rule as RuleOf<typeof rule.kind>, input);
  } catch (error) {
    // Code not loaded (a series method of a built-in kind) is a wiring bug, not this snapshot's numbers.
    if (error instanceof RuleKindNotLoadedError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return [
      unavailable(WORLD, heldStrategies(input.snapshot), `${rule.kind} measurement failed: ${message}`, {
        kind: rule.kind,
      }),
    ];
  }
}
