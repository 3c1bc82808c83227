import type { SignalAction } from '#lib/contracts/exit-signal.js';
import type { RuleMode, RuleSpec } from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';
import type { Verdict } from './episodes.js';

/** The audit rows of an evaluation (one per rule and scope unit) and the evidence a signal carries. */

/** One rule's verdict on one scope unit, with its numbers: the audit trail's row. */
export interface RuleOutcome {
  rule_id: string;
  kind: string;
  mode: RuleMode;
  scope: 'world' | 'strategy';
  scope_key: string;
  measure: number | null;
  limit: number;
  clear: number;
  target: number;
  utilization: number | null;
  verdict: Verdict;
  unavailable?: string;
  proposed?: { action: SignalAction; ratio: number; sizing: string; after?: number };
  evidence: Record<string, unknown>;
}

/** The audit row of a rule whose `when` does not match this snapshot: not measured, no episode step. */
export function notApplicable(rule: RuleSpec, mode: RuleMode, snapshot: RuleInput['snapshot']): RuleOutcome {
  const row = unmeasured(rule, mode, 'not_applicable');
  row.evidence = { when: rule.when, stage: snapshot.stage ?? null, actor: snapshot.actor ?? null };
  return row;
}

/** The audit row of a rule whose relative levels this snapshot cannot give: not measured, no episode step. */
export function unevaluable(
  rule: RuleSpec,
  mode: RuleMode,
  why: { unavailable: string; evidence: Record<string, unknown> },
): RuleOutcome {
  const row = unmeasured(rule, mode, 'unavailable');
  row.unavailable = why.unavailable;
  row.evidence = Object.assign({}, why.evidence, {
    limit: rule.limit,
    clear: rule.clear ?? null,
    target: rule.target ?? null,
  });
  return row;
}

/**
 * A rule's audit row without a measure, its evidence still to set; levels relative to a budget are
 * recorded as NaN (stored null). Fields set in the row's key order, no spread: a spread of one
 * object into another literal built each row a fresh hidden class on Node 20, microseconds apiece.
 */
function unmeasured(rule: RuleSpec, mode: RuleMode, verdict: 'not_applicable' | 'unavailable'): RuleOutcome {
  const num = (v: RuleSpec['limit']) => (typeof v === 'number' ? v : Number.NaN);
  return {
    rule_id: rule.id,
    kind: rule.kind,
    mode,
    scope: rule.scope,
    scope_key: 'world',
    measure: null,
    limit: num(rule.limit),
    clear: num(rule.clear ?? rule.limit),
    target: num(rule.target ?? rule.limit),
    utilization: null,
    verdict,
  } as RuleOutcome;
}

/**
 * A signal's evidence keeps, of any per-strategy map (e.g. `components`), only its own strategy's
 * entry: the full map is in the audit record once, and repeating it on every signal would grow an
 * event quadratically with the number of strategies (EventBridge caps an event at 256 KB).
 */
export function forStrategy(metrics: Record<string, unknown>, strategy: string, ids: ReadonlySet<string>) {
  const out: Record<string, unknown> = {};
  // Keys, not entries: the same own keys in the same order, without a [key, value] array per key.
  const keys = Object.keys(metrics);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = metrics[key];
    const perStrategy =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      strategy in value &&
      Object.keys(value).every((k) => ids.has(k));
    out[key] = perStrategy ? { [strategy]: (value as Record<string, unknown>)[strategy] } : value;
  }
  return out;
}
