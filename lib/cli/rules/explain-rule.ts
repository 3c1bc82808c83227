/**
 * A rule set in plain words: what each rule measures, against which level, and what it does when the
 * level is crossed (`rules explain`), and a rule's numbers in its own units (the ops and replay views).
 */

import { explainLanguage } from '#lib/rules/explain-language.js';
import { describeLevel } from '#lib/rules/relative-levels.js';
import { effectiveMode, type Level, type RuleSpec as Rule, type RuleSet } from '#lib/rules/rule-schema.js';
import { DEFAULT_WORLD } from '#lib/rules/ruleset-loader.js';
import { sizingSupport } from '#lib/rules/sizing-support.js';
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const trim = (x: number) => String(Number(x.toPrecision(6)));
const LOSS_KINDS = new Set(['var_limit', 'es_limit', 'stress_drawdown', 'drawdown', 'risk_contribution']);

/**
 * A rule's number in its own units: a percent of capital for losses and weights, a multiple for
 * leverage and liquidity ratios, seconds for ages. `exact` keeps configured levels unrounded.
 */
export function formatRuleValue(
  kind: string,
  measure: string | undefined,
  value: number | null | undefined,
  exact = false,
): string {
  if (value === null || value === undefined) return 'n/a';
  if (!Number.isFinite(value)) return String(value);
  const pct = () => (exact ? `${trim(value * 100)}%` : `${(value * 100).toFixed(2)}%`);
  const num = (digits: number) => (exact ? trim(value) : value.toFixed(digits));
  if (LOSS_KINDS.has(kind)) return pct();
  switch (kind) {
    case 'concentration':
      if (measure === 'gross_leverage') return `${num(2)}×`;
      if (measure === 'herfindahl') return num(4);
      return pct();
    case 'volatility_regime':
      return num(measure === 'vix_term_inversion' ? 3 : 2);
    case 'correlation_breakdown':
      return measure === 'turbulence_percentile' ? `${num(3)} (percentile)` : `${num(2)} sd`;
    case 'liquidity':
      return measure === 'adv_utilization' ? pct() : `${num(2)}×`;
    case 'staleness':
      return value >= Number.MAX_SAFE_INTEGER
        ? 'never (no data)'
        : `${exact ? trim(value) : Math.round(value)} s`;
    default:
      return exact ? trim(value) : String(Number(value.toPrecision(4)));
  }
}

/** The measure name a rule carries, for kinds that have several. */
export function measureName(rule: Rule): string | undefined {
  return 'measure' in rule ? rule.measure : undefined;
}

const METHOD_NAMES: Record<string, string> = {
  normal: 'parametric normal',
  student_t: 'Student-t',
  cornish_fisher: 'Cornish–Fisher (skew- and kurtosis-adjusted)',
  historical: 'historical',
};

function duration(sec: number): string {
  if (sec % 86_400 === 0) return plural(sec / 86_400, 'day');
  if (sec % 3600 === 0) return plural(sec / 3600, 'hour');
  if (sec % 60 === 0) return plural(sec / 60, 'minute');
  return plural(sec, 'second');
}

/** What the rule measures, in words. */
function describeMeasure(rule: Rule): string {
  const perStrategy = rule.scope === 'strategy';
  switch (rule.kind) {
    case 'var_limit':
    case 'es_limit': {
      const what = rule.kind === 'var_limit' ? 'Value-at-Risk (VaR)' : 'Expected Shortfall (ES)';
      const dof =
        rule.method === 'student_t'
          ? rule.dof !== undefined
            ? ` with ν = ${rule.dof}`
            : ' with ν estimated from the kurtosis'
          : '';
      const of = perStrategy ? "each strategy's own position (wᵢ·rᵢ)" : 'the whole portfolio';
      return `the ${rule.horizon}-period ${trim(rule.confidence * 100)}% ${what} of ${of}, by the ${METHOD_NAMES[rule.method]} method${dof}, as a loss in percent of capital`;
    }
    case 'stress_drawdown': {
      const scenario =
        rule.scenario === 'worst' ? 'the worst stress scenario' : `the stress scenario '${rule.scenario}'`;
      const metric =
        rule.metric === 'max_drawdown'
          ? 'maximum drawdown (max_drawdown, or dd_max from older producers)'
          : rule.metric;
      return `the ${metric} of ${scenario} the hub reports${perStrategy ? ', per strategy where the hub nests stress by strategy' : ''}, in percent of capital`;
    }
    case 'drawdown':
      return `the current realized drawdown on the compounded equity curve of ${perStrategy ? "each strategy's own returns" : 'the portfolio'}${rule.lookback !== undefined ? ` over the last ${rule.lookback} returns` : ''}`;
    case 'concentration':
      return rule.measure === 'max_weight'
        ? `${perStrategy ? "each strategy's" : 'the largest single strategy'} weight, in percent of capital`
        : rule.measure === 'herfindahl'
          ? 'the Herfindahl index Σw² of the weights (1/HHI is the effective number of strategies)'
          : "gross leverage Σ|w| as a multiple of capital (the hub's constraints.max_leverage is shown beside it)";
    case 'volatility_regime':
      return rule.measure === 'vix_level'
        ? `the VIX level from market scope '${rule.market_scope}'`
        : `the VIX/VIX3M ratio from market scope '${rule.market_scope}' (above 1 the term structure is inverted)`;
    case 'correlation_breakdown':
      if (rule.measure === 'avg_correlation_z')
        return `how many standard deviations the average pairwise correlation of the last ${rule.short_window} periods sits above its ${rule.long_window}-period norm`;
      if (rule.measure === 'turbulence_percentile')
        return `the percentile of the latest cross-section's turbulence (Mahalanobis distance) among the last ${rule.long_window} periods`;
      return `how many standard deviations the absorption ratio (variance share of the top ⌈N/5⌉ eigenvectors) of the last ${rule.short_window} periods sits above its ${rule.long_window}-period norm`;
    case 'liquidity':
      if (rule.measure === 'spread_widening')
        return `the relative spread of the last ${rule.short_window} periods as a multiple of its ${rule.long_window}-period mean (market scope '${rule.market_scope}')`;
      if (rule.measure === 'amihud_deterioration')
        return `Amihud illiquidity (|r| per dollar traded) of the last ${rule.short_window} periods as a multiple of its ${rule.long_window}-period mean (market scope '${rule.market_scope}')`;
      return "utilization of average daily volume (the hub's constraints.adv_util_p95, else the market feed's latest adv_util)";
    case 'risk_contribution':
      return `each strategy's share of portfolio ${rule.measure === 'var' ? 'VaR' : 'ES'}: its component (Euler) contribution wᵢ(Σw)ᵢ over the total wᵀΣw, on the snapshot covariance (parametric normal, zero mean, where VaR and ES shares are equal), not its stand-alone risk`;
    case 'staleness':
      return rule.source === 'snapshot'
        ? 'the age in seconds of the hub snapshot (now − as_of)'
        : `the age in seconds of the market data for scope '${rule.market_scope}' (no data at all counts as infinitely old)`;
  }
}

function describeAction(rule: Rule, target: string): string {
  const whom = rule.scope === 'strategy' ? 'the breaching strategy' : 'every strategy of the world';
  const support = sizingSupport(rule);
  switch (rule.action.type) {
    case 'exit':
      return `asks to exit ${whom} fully`;
    case 'reduce_fixed':
      return `asks to cut ${whom} by a fixed ${trim(rule.action.ratio * 100)}%${
        support.reduce
          ? ' (a de-risking step: no position cut moves this measure, so no level after the cut is claimed)'
          : ''
      }`;
    case 'reduce':
      if (rule.kind === 'risk_contribution')
        return `asks to cut the breaching strategy alone (the rest of the book unchanged) by the exact fraction that brings its share back to the target ${target}; when the rest of the book carries no variance, only an exit lowers the share`;
      if (rule.action.sizing === 'contribution') {
        const fallback =
          rule.kind === 'var_limit' || rule.kind === 'es_limit'
            ? rule.method === 'normal'
              ? ''
              : '; a snapshot with only a portfolio return series (no per-strategy returns) gets a uniform cut instead, and the signal says so (sizing uniform_fallback)'
            : '';
        return rule.scope === 'strategy'
          ? `asks to cut the breaching strategy's own position by 1 − target/measure, which brings the measure back to the target ${target}`
          : `asks for the smallest total cut that brings the measure back to the target ${target}, cutting the largest contributors first by ${support.contributionBasis}; each strategy is cut only as far as needed before the next is touched${fallback}`;
      }
      if (rule.kind === 'concentration' && rule.measure === 'max_weight')
        return `asks to trim each strategy above the target ${target} back to it`;
      if (rule.kind === 'concentration' && rule.measure === 'herfindahl')
        return `asks to cut ${whom} by the same fraction, 1 − √(target/measure) (Σw² moves with the square of the cut), which brings the measure back to the target ${target}`;
      return `asks to cut ${whom} by the same fraction, 1 − target/measure, which brings the measure back to the target ${target}`;
  }
}

/** One plain-English paragraph: everything the rule will do. */
export function explainRule(set: RuleSet, rule: Rule): string {
  const measure = measureName(rule);
  const fmt = (v: Level) =>
    typeof v === 'number' ? formatRuleValue(rule.kind, measure, v, true) : describeLevel(v);
  const clear = rule.clear ?? rule.limit;
  const target = rule.target ?? rule.limit;
  const mode = effectiveMode(set, rule);
  const parts: string[] = [];
  parts.push(
    `${rule.id} (${rule.kind}):${rule.description ? ` ${rule.description.replace(/\.?$/, '.')}` : ''}`,
  );
  parts.push(`It measures ${describeMeasure(rule)}.`);
  parts.push(
    `It breaches above ${fmt(rule.limit)}; ${
      rule.clear !== undefined
        ? `once breached, the episode lasts until the measure is back at or below ${fmt(clear)} (hysteresis).`
        : 'the episode ends as soon as the measure is back at or below the limit (no separate clear level).'
    }`,
  );
  parts.push(
    `On a breach it ${describeAction(rule, fmt(target))}${
      rule.action.type === 'reduce' && rule.target === undefined ? ' (no target set: the limit)' : ''
    }.`,
  );
  parts.push(
    `Severity ${rule.severity}, priority ${rule.priority} (the lower number wins ties between rules).`,
  );
  parts.push(
    mode === 'enforce'
      ? 'Mode enforce: its signals are published to the gateway.'
      : mode === 'shadow'
        ? `Mode shadow${set.mode === 'shadow' ? ' (the whole rule set runs in shadow)' : ''}: evaluated, stored and audited, never published.`
        : 'Mode approval: its signals are stored as proposals and published only once a person approves them.',
  );
  if (mode === 'approval') {
    const a = rule.approval ?? { timeout_sec: 900, default: 'drop' as const, four_eyes: false };
    parts.push(
      `Without a decision within ${duration(a.timeout_sec)}${rule.approval ? '' : ' (the default)'}, a proposal is ${
        a.default === 'emit' ? 'published anyway' : 'dropped'
      }; ${a.four_eyes ? 'approval needs two different people (four eyes).' : 'one approver suffices.'}`,
    );
  } else if (rule.approval) {
    parts.push(`Its approval settings are unused while the mode is ${mode}.`);
  }
  parts.push(
    rule.scope === 'world'
      ? 'Scope world: one measure for the whole world; an action applies to every strategy held.'
      : 'Scope strategy: measured per strategy; an action applies to that strategy only.',
  );
  parts.push(
    rule.persistence === 1
      ? 'It fires on the first breaching evaluation.'
      : typeof rule.persistence === 'number'
        ? `It fires only after breaches on ${rule.persistence} distinct hub snapshots in a row${
            rule.kind === 'volatility_regime' || rule.kind === 'liquidity'
              ? ' or market updates'
              : rule.kind === 'staleness'
                ? ' or evaluations (age grows with time)'
                : ''
          }; re-evaluating the same data does not count again.`
        : `It fires only once the breach has lasted ${rule.persistence.for} without a break.`,
  );
  parts.push(
    `Within an episode it signals again only when the action becomes stricter or the cut grows by at least ${trim(
      rule.reemit.min_ratio_step * 100,
    )} percentage points${
      rule.reemit.repeat_after_sec !== undefined
        ? `, or every ${duration(rule.reemit.repeat_after_sec)} while the breach lasts`
        : ''
    }; when the episode ends it sends a hold.`,
  );
  parts.push(...explainLanguage(rule, mode));
  if (rule.when) {
    const conds = [
      rule.when.stage ? `stage is ${rule.when.stage.join(' or ')}` : '',
      rule.when.actor ? `actor is ${rule.when.actor.join(' or ')}` : '',
    ].filter(Boolean);
    parts.push(
      `It applies only to snapshots whose ${conds.join(' and whose ')}; on others it is recorded as not applicable.`,
    );
  }
  for (const [id, o] of Object.entries(rule.strategies ?? {})) {
    const own = { ...rule, ...o } as Rule;
    const said = [
      o.limit !== undefined ? `breaches above ${fmt(o.limit)}` : '',
      o.clear !== undefined ? `clears at ${fmt(o.clear)}` : '',
      o.target !== undefined || o.action !== undefined
        ? `on a breach ${describeAction(own, fmt(own.target ?? own.limit))}`
        : '',
    ].filter(Boolean);
    parts.push(`For strategy ${id} it ${said.join(', ')}.`);
  }
  return parts.join(' ');
}

/** The set's header: which worlds it governs, its version and mode. */
export function explainSet(set: RuleSet): string {
  const worlds =
    set.world === DEFAULT_WORLD ? 'every world without a rule set of its own' : `the world '${set.world}'`;
  return `${set.source}: applies to ${worlds}; version ${set.version}; mode ${set.mode}; ${plural(set.rules.length, 'rule')}.${
    set.description ? ` ${set.description}` : ''
  }`;
}
