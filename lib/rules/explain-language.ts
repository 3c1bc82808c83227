import { describeLevel } from './relative-levels.js';
import type { RuleMode, RuleSpec } from './rule-schema.js';

/**
 * `rules explain` sentences for the newer parts of the rule language (approval holds, cooldown and
 * lock-out, relative limits, risk-contribution limits): kept beside the schema they explain, so the
 * CLI's explainer only strings them together.
 */
export function explainLanguage(rule: RuleSpec, mode: RuleMode): string[] {
  const parts: string[] = [];
  const relative = (['limit', 'clear', 'target'] as const).flatMap((f) => {
    const level = rule[f];
    return typeof level === 'object' ? [`its ${f} is ${describeLevel(level)}`] : [];
  });
  if (relative.length > 0) {
    parts.push(
      `Relative to the snapshot's own budget: ${relative.join(', ')}, read afresh from every snapshot. A snapshot without that value (or with one that is not a positive number) cannot be evaluated by this rule: it is audited as unavailable with the reason, and an open episode stays open (its cut stands, no hold is sent).`,
    );
  }
  if (mode === 'approval') {
    parts.push(
      'When its episode ends, a hold is proposed only to strategies whose cut was approved (or published by the timeout default); a rejected or dropped proposal gets no hold.',
    );
  }
  if (rule.lockout) {
    parts.push(
      `Lock-out ${rule.lockout}: once fired, the cut stands at least ${rule.lockout} after the snapshot it fired on (snapshot as_of time), even if the measure clears sooner.`,
    );
  }
  if (rule.cooldown) {
    parts.push(
      `Cooldown ${rule.cooldown}: after the measure clears, the hold waits until the snapshots' as_of has moved ${rule.cooldown} past the first clear reading (the cut stands meanwhile; a reading above the clear level restarts the wait), and goes out at the first evaluation after that.`,
    );
  }
  return parts;
}
