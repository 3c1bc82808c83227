import type { Rule, RuleMode, RuleSetDefinition } from './rule-schema.js';

/**
 * The two rule-set helpers the engine calls on every evaluation, apart from rule-schema.ts so the
 * engine does not load the zod schemas of the rule-set language to use them: a Lambda reads its bundled
 * rule sets already validated (compiled at bundle time), and builds the schemas only for a rule set
 * published to the store (lib/rulesets/live-rule-sets.ts).
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a validated duration string (`90s`, `15m`, `2h`, `1d`). */
export function durationMs(duration: string): number {
  const unit = duration.at(-1) as keyof typeof UNIT_MS;
  return Number(duration.slice(0, -1)) * UNIT_MS[unit];
}

/** The effective mode of a rule inside its set (a shadow world forces every rule to shadow). */
export function effectiveMode(set: Pick<RuleSetDefinition, 'mode'>, rule: Pick<Rule, 'mode'>): RuleMode {
  if (set.mode === 'shadow') return 'shadow';
  return rule.mode ?? set.mode;
}
