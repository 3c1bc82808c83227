// `zod/mini` as a namespace (esbuild keeps only what is used), with the English messages classic zod
// prints configured (zod-messages.ts): the same core and checks, so every issue reads as it did in
// classic zod, and a Lambda bundle that parses a live rule set needs no classic zod, whose schemas keep
// zod's JSON Schema generator (17 KB) in the files every cold start loads (README, cold start round 4).
import * as z from 'zod/mini';
import '#lib/contracts/zod-messages.js';
import { levelAbove, relativeLevelProblems } from './relative-levels.js';
import { actionProblem } from './sizing-support.js';

/**
 * The rule-set language a risk manager writes (YAML or JSON). Every field is validated with a
 * message that names it (`rules[2].limit: must be between 0 and 1`), so a bad rule set fails
 * `npm test`, `cdk synth` and `exit-engine rules validate` before it can reach a deployment.
 */

const fraction = (what = 'a fraction') =>
  z
    .number({ message: `must be ${what}` })
    .check(z.minimum(0, 'must be between 0 and 1'), z.maximum(1, 'must be between 0 and 1'));
const positive = z.number({ message: 'must be a number' }).check(z.positive('must be greater than 0'));
const confidence = z
  .number({ message: 'must be a number' })
  .check(
    z.gt(0.5, 'must be between 0.5 and 1 (e.g. 0.99)'),
    z.lt(1, 'must be between 0.5 and 1 (e.g. 0.99)'),
  );
const horizon = z
  .number({ message: 'must be a number' })
  .check(z.int('must be a whole number of periods'), z.minimum(1), z.maximum(250));
/** A whole number (classic zod's `.int(message)`). */
const wholeNumber = (message?: string) => z.number().check(z.int(message));
const nonEmptyString = () => z.string().check(z.minLength(1));

/** A duration such as `90s`, `15m`, `2h` or `1d`, in milliseconds once parsed. */
export const DurationSchema = z
  .string({ message: 'must be a duration such as 90s, 15m, 2h or 1d' })
  .check(z.regex(/^[1-9][0-9]*(s|m|h|d)$/, 'must be a duration such as 90s, 15m, 2h or 1d'));

export { durationMs, effectiveMode } from './rule-modes.js';

export const RuleModeSchema = z.enum(['enforce', 'approval', 'shadow']);
export type RuleMode = z.infer<typeof RuleModeSchema>;
export const SeveritySchema = z.enum(['info', 'warning', 'blocking']);

/** What a breach asks the gateway to do. */
export const RuleActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('exit') }),
  z.strictObject({
    type: z.literal('reduce'),
    /** uniform: every strategy cut by 1 − target/measure; contribution: largest contributors first. */
    sizing: z._default(z.enum(['uniform', 'contribution']), 'uniform'),
  }),
  z.strictObject({ type: z.literal('reduce_fixed'), ratio: fraction('a reduction ratio between 0 and 1') }),
]);
export type RuleAction = z.infer<typeof RuleActionSchema>;

/** Fields every rule kind shares: identity, action, governance and anti-flapping. */
export const RuleCommonShape = {
  id: z
    .string({ message: 'must be a snake_case id' })
    .check(
      z.regex(
        /^[a-z][a-z0-9_]*$/,
        'must be snake_case (lowercase letters, digits, _), starting with a letter',
      ),
    ),
  description: z.optional(z.string()),
  action: z._default(RuleActionSchema, { type: 'reduce', sizing: 'uniform' }),
  severity: z._default(SeveritySchema, 'blocking'),
  /** Lower number wins ties between rules asking for the same action and ratio. */
  priority: z._default(wholeNumber('must be a whole number').check(z.minimum(0), z.maximum(1000)), 100),
  /** Absent: the rule set's mode. */
  mode: z.optional(RuleModeSchema),
  scope: z._default(z.enum(['world', 'strategy']), 'world'),
  /**
   * Breaches on that many distinct hub snapshots in a row (market data too, for market rules) before
   * the rule fires — a re-evaluation of the same data never counts twice — or, as `{for: 15m}`, a
   * breach that has lasted that long.
   */
  persistence: z._default(
    z.union(
      [
        wholeNumber('must be a whole number').check(z.minimum(1), z.maximum(100)),
        z.strictObject({ for: DurationSchema }),
      ],
      { message: 'must be a whole number of snapshots (1-100) or {for: <duration>} such as {for: 15m}' },
    ),
    1,
  ),
  /** Re-emit within an episode only on escalation by this much reduction ratio, or after this long. */
  reemit: z._default(
    z.strictObject({
      min_ratio_step: z._default(fraction(), 0.05),
      repeat_after_sec: z.optional(wholeNumber().check(z.positive())),
    }),
    { min_ratio_step: 0.05 },
  ),
  /**
   * After the measure clears, the episode's hold waits this long (on the snapshots' as_of time): the
   * cut stands, and the hold goes out at the first evaluation once it has passed.
   */
  cooldown: z.optional(DurationSchema),
  /** A cut stands at least this long after the snapshot it fired on, even if the measure clears sooner. */
  lockout: z.optional(DurationSchema),
  /** Apply only to snapshots whose provenance matches (e.g. `{stage: [live]}`); absent: always. */
  when: z.optional(
    z.strictObject({
      stage: z.optional(
        z.array(nonEmptyString(), { message: 'must be a list of stages, e.g. [live]' }).check(z.minLength(1)),
      ),
      actor: z.optional(
        z.array(nonEmptyString(), { message: 'must be a list of actors' }).check(z.minLength(1)),
      ),
    }),
  ),
  /** Per-strategy overrides of a strategy-scoped rule: `{carry_fx: {limit: 0.01}}`. */
  strategies: z.optional(
    z.record(
      nonEmptyString(),
      z.strictObject({
        limit: z.optional(z.number({ message: 'must be a number' })),
        clear: z.optional(z.number({ message: 'must be a number' })),
        target: z.optional(z.number({ message: 'must be a number' })),
        action: z.optional(RuleActionSchema),
      }),
    ),
  ),
  approval: z.optional(
    z.strictObject({
      timeout_sec: z._default(wholeNumber().check(z.minimum(60), z.maximum(7 * 86_400)), 900),
      default: z._default(z.enum(['emit', 'drop']), 'drop'),
      four_eyes: z._default(z.boolean(), false),
    }),
  ),
};

/**
 * A level relative to the snapshot's own budget: `{from: constraints.max_leverage, factor: 0.9}` is
 * 90% of the leverage budget the hub sent with this snapshot (see relative-levels.ts for the paths).
 */
export const RelativeLevelSchema = z.strictObject({
  from: z
    .string({ message: 'must be a snapshot path such as constraints.max_leverage' })
    .check(z.minLength(1)),
  factor: z._default(
    z
      .number({ message: 'must be a number' })
      .check(z.positive('must be greater than 0'), z.maximum(10, 'must be at most 10')),
    1,
  ),
});
export type RelativeLevel = z.infer<typeof RelativeLevelSchema>;
export type Level = number | RelativeLevel;

const level = (what: z.ZodMiniNumber<number>) =>
  z.union([what, RelativeLevelSchema], {
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null
        ? 'must be {from: <snapshot path>, factor: <number>}, e.g. {from: constraints.max_leverage, factor: 0.9}'
        : 'must be a number, or {from: <snapshot path>, factor: <number>}',
  });

/** Limit with an optional clear level below it (hysteresis) and an optional sizing target. */
const limitShape = (what: z.ZodMiniNumber<number>) => ({
  limit: level(what),
  /** The episode ends only once the measure is at or below this (default: the limit). */
  clear: z.optional(level(what)),
  /** Reduce-sizing aims here (default: the limit). */
  target: z.optional(level(what)),
});

const lossFraction = fraction('a loss as a fraction of capital');

export const VarLimitRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('var_limit'),
  method: z._default(z.enum(['normal', 'student_t', 'cornish_fisher', 'historical']), 'normal'),
  confidence: z._default(confidence, 0.99),
  horizon: z._default(horizon, 1),
  dof: z.optional(z.number().check(z.gt(2, 'must be greater than 2'))),
  ...limitShape(lossFraction),
});

export const EsLimitRuleSchema = z.strictObject({
  ...VarLimitRuleSchema.shape,
  kind: z.literal('es_limit'),
});

export const StressDrawdownRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('stress_drawdown'),
  /** A named scenario, or `worst` for the worst of all scenarios. */
  scenario: z._default(nonEmptyString(), 'worst'),
  metric: z._default(z.enum(['max_drawdown', 'var_99', 'es_99']), 'max_drawdown'),
  ...limitShape(lossFraction),
});

export const DrawdownRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('drawdown'),
  /** Evaluate the last N returns only (default: all). */
  lookback: z.optional(wholeNumber().check(z.minimum(2))),
  ...limitShape(lossFraction),
});

export const ConcentrationRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('concentration'),
  measure: z.enum(['max_weight', 'herfindahl', 'gross_leverage']),
  ...limitShape(positive),
});

export const VolatilityRegimeRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('volatility_regime'),
  measure: z.enum(['vix_level', 'vix_term_inversion']),
  /** Which market scope to read (default `global`). */
  market_scope: z._default(z.string(), 'global'),
  ...limitShape(positive),
});

export const CorrelationBreakdownRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('correlation_breakdown'),
  measure: z.enum(['avg_correlation_z', 'turbulence_percentile', 'absorption_shift']),
  short_window: z._default(wholeNumber().check(z.minimum(5)), 20),
  long_window: z._default(wholeNumber().check(z.minimum(10)), 120),
  ...limitShape(z.number({ message: 'must be a number' })),
});

export const LiquidityRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('liquidity'),
  measure: z.enum(['spread_widening', 'amihud_deterioration', 'adv_utilization']),
  short_window: z._default(wholeNumber().check(z.minimum(1)), 5),
  long_window: z._default(wholeNumber().check(z.minimum(2)), 60),
  market_scope: z._default(z.string(), 'global'),
  ...limitShape(positive),
});

export const StalenessRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('staleness'),
  source: z.enum(['snapshot', 'market']),
  market_scope: z._default(z.string(), 'global'),
  /** Seconds of age beyond which the data is stale. */
  ...limitShape(positive),
});

/**
 * A strategy's share of portfolio VaR or ES (its component contribution over the total), not its
 * stand-alone risk; parametric normal on the snapshot covariance, where VaR and ES shares coincide.
 */
export const RiskContributionRuleSchema = z.strictObject({
  ...RuleCommonShape,
  kind: z.literal('risk_contribution'),
  scope: z._default(
    z.literal('strategy', {
      message: 'must be strategy: a risk contribution is measured per strategy (leave scope out)',
    }),
    'strategy',
  ),
  measure: z._default(z.enum(['var', 'es']), 'var'),
  method: z._default(
    z.literal('normal', {
      message:
        'must be normal: shares are computed on the covariance (parametric normal, zero mean), where the VaR and ES shares are equal',
    }),
    'normal',
  ),
  ...limitShape(fraction('a share of the portfolio measure between 0 and 1')),
});

export const RuleSchema = z
  .discriminatedUnion('kind', [
    VarLimitRuleSchema,
    EsLimitRuleSchema,
    StressDrawdownRuleSchema,
    DrawdownRuleSchema,
    ConcentrationRuleSchema,
    VolatilityRegimeRuleSchema,
    CorrelationBreakdownRuleSchema,
    LiquidityRuleSchema,
    StalenessRuleSchema,
    RiskContributionRuleSchema,
  ])
  .check(
    z.superRefine((rule, ctx) => {
      for (const field of ['clear', 'target'] as const) {
        const above = levelAbove(rule[field], rule.limit);
        if (above)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `must be at or below the limit (${above})`,
          });
      }
      for (const problem of relativeLevelProblems(rule)) {
        ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      }
      // A sized reduce cuts by 1 − target/measure: meaningless unless the target is a positive level.
      const sizedTo = rule.target ?? rule.limit;
      if (rule.action.type === 'reduce' && typeof sizedTo === 'number' && sizedTo < 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['action'],
          message: `a reduce sized to the target needs a target of at least 0 (here ${rule.target ?? rule.limit}); use exit or reduce_fixed`,
        });
      }
      if (rule.strategies && Object.keys(rule.strategies).length > 0) {
        if (rule.scope !== 'strategy') {
          ctx.addIssue({
            code: 'custom',
            path: ['strategies'],
            message: `rule '${rule.id}': per-strategy overrides need scope: strategy (a world-scope rule has one measure for all)`,
          });
        }
        // Each strategy's rule must be a valid rule on its own: same checks, paths under strategies.<id>.
        for (const [id, override] of Object.entries(rule.strategies)) {
          const { strategies: _, ...base } = rule;
          const merged = RuleSchema.safeParse({ ...base, ...override });
          if (merged.success) continue;
          for (const issue of merged.error.issues) {
            ctx.addIssue({ code: 'custom', path: ['strategies', id, ...issue.path], message: issue.message });
          }
        }
      }
      const problem = actionProblem(rule);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          path: ['action'],
          message: `rule '${rule.id}': ${problem} (a rule without an action defaults to reduce, sizing uniform)`,
        });
      }
      if ('long_window' in rule && 'short_window' in rule && rule.short_window >= rule.long_window) {
        ctx.addIssue({ code: 'custom', path: ['short_window'], message: 'must be shorter than long_window' });
      }
    }),
  );

/** A rule as written: its limit, clear and target may be relative to the snapshot's budget. */
export type RuleSpec = z.infer<typeof RuleSchema>;
/** A rule with its levels resolved to numbers for one snapshot: what the rule kinds measure against. */
export type Rule = RuleSpec extends infer R
  ? R extends unknown
    ? Omit<R, 'limit' | 'clear' | 'target'> & { limit: number; clear?: number; target?: number }
    : never
  : never;
export type RuleKind = Rule['kind'];
export type RuleOf<K extends RuleKind> = Extract<Rule, { kind: K }>;

export const RuleSetSchema = z
  .strictObject({
    /** Which world this file is for; `default` applies to worlds without a file of their own. */
    world: nonEmptyString(),
    description: z.optional(z.string()),
    /** The mode rules run in unless they say otherwise; `shadow` runs a whole world in shadow. */
    mode: z._default(RuleModeSchema, 'enforce'),
    /** Longest mute one person may set on this world; longer ones need a second approver (ops). */
    max_mute_sec: z._default(wholeNumber().check(z.positive(), z.maximum(366 * 86_400)), 86_400),
    rules: z.array(RuleSchema).check(z.minLength(1, 'must list at least one rule')),
  })
  .check(
    z.superRefine((set, ctx) => {
      const seen = new Map<string, number>();
      set.rules.forEach((rule, index) => {
        const first = seen.get(rule.id);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'id'],
            message: `duplicates rules[${first}].id '${rule.id}'`,
          });
        } else seen.set(rule.id, index);
      });
    }),
  );

export type RuleSetDefinition = z.infer<typeof RuleSetSchema>;

/** A validated rule set with its content hash, which is its version. */
export interface RuleSet extends RuleSetDefinition {
  version: string;
  source: string;
}
