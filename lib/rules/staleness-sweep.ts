import type { RuleSet, RuleSpec } from './rule-schema.js';

type StalenessRule = Extract<RuleSpec, { kind: 'staleness' }>;

/**
 * Fail closed when the hub goes quiet. No event arrives for a silent world, and its latest snapshot
 * expires (`ttl_sec`, 900 s by default) long before it is old enough to trip a typical staleness
 * limit, so the every-minute freshness sweep asks this: which of the world's snapshot-staleness
 * rules has the latest snapshot outlived at `nowMs`? Those rules (and only those: every other rule
 * would be reading expired data) are then evaluated on it, so the world gets the rules' actions.
 */
export function dueStalenessRules(ruleSet: RuleSet, snapshotAsOfMs: number, nowMs: number): StalenessRule[] {
  const ageSec = (nowMs - snapshotAsOfMs) / 1000;
  return ruleSet.rules.filter(
    (r): r is StalenessRule =>
      r.kind === 'staleness' && r.source === 'snapshot' && typeof r.limit === 'number' && ageSec > r.limit,
  );
}

/** The rule set the sweep evaluates: the same version and mode, only the due staleness rules. */
export function sweepRuleSet(ruleSet: RuleSet, due: readonly StalenessRule[]): RuleSet {
  return { ...ruleSet, rules: [...due] };
}

/**
 * Warnings (not errors) about rules that cannot do what they seem to say. A snapshot-staleness rule
 * with persistence other than 1 waits for breaches on distinct data or for time in breach, but a
 * silent hub sends no new data and the sweep evaluates a quiet world once per due rule set: such a
 * rule never trips when the hub goes quiet, which is the case it exists for.
 */
export function ruleSetWarnings(ruleSet: Pick<RuleSet, 'rules'>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  ruleSet.rules.forEach((rule, i) => {
    if (rule.kind === 'staleness' && rule.source === 'snapshot' && rule.persistence !== 1) {
      out.push({
        path: `rules[${i}].persistence`,
        message: `rule '${rule.id}': a silent hub sends no new snapshot, so persistence ${JSON.stringify(rule.persistence)} can never be reached when the hub goes quiet; the freshness sweep trips it only with persistence 1`,
      });
    }
  });
  return out;
}
