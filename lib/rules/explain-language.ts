import type { Rule, RuleMode } from './rule-schema.js';

/**
 * `rules explain` sentences for the newer parts of the rule language (approval holds, cooldown and
 * lock-out, relative limits, risk-contribution limits): kept beside the schema they explain, so the
 * CLI's explainer only strings them together.
 */
export function explainLanguage(rule: Rule, mode: RuleMode): string[] {
  const parts: string[] = [];
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
