import { editDistance } from '#lib/edit-distance.js';
import type { Level, RelativeLevel, Rule, RuleSpec } from './rule-schema.js';

/**
 * Limits relative to the snapshot's own budget: `limit: {from: constraints.max_leverage, factor: 0.9}`.
 * A path is accepted only where the budget it names is in the rule's own units, so a rule can never
 * compare VaR against a leverage budget. The names follow upstream's RiskConfig (qmtl
 * docs/en/operations/risk_management.md); the hub sends them, free-form, under `constraints`.
 *
 * At run time the level is read from each snapshot. A snapshot without the value (or with a value
 * that is not a positive number) makes the rule unevaluable: it is audited as `unavailable` with the
 * reason, its episode does not move (an open cut stands, no hold is sent), and it never passes
 * silently. That is the fail-closed choice: a missing budget releases nothing.
 */
interface Budget {
  /** What the value is, in words. */
  what: string;
  /** The rules whose measure is in the budget's units. */
  fits: (rule: Pick<RuleSpec, 'kind'> & { measure?: string; metric?: string }) => boolean;
  /** Those rules, in words (for the refusal message). */
  fitsWhat: string;
}

const BUDGETS: Record<string, Budget> = {
  'constraints.max_leverage': {
    what: 'the gross leverage budget (a multiple of capital)',
    fits: (r) => r.kind === 'concentration' && r.measure === 'gross_leverage',
    fitsWhat: 'concentration rules with measure gross_leverage',
  },
  'constraints.max_concentration_pct': {
    what: 'the largest weight one position may have (a fraction of capital)',
    fits: (r) => r.kind === 'concentration' && r.measure === 'max_weight',
    fitsWhat: 'concentration rules with measure max_weight',
  },
  'constraints.position_size_limit_pct': {
    what: 'the largest weight one position may have (a fraction of capital)',
    fits: (r) => r.kind === 'concentration' && r.measure === 'max_weight',
    fitsWhat: 'concentration rules with measure max_weight',
  },
  'constraints.max_drawdown_pct': {
    what: 'the drawdown budget (a fraction of capital)',
    fits: (r) => r.kind === 'drawdown' || (r.kind === 'stress_drawdown' && r.metric === 'max_drawdown'),
    fitsWhat: 'drawdown rules and stress_drawdown rules with metric max_drawdown',
  },
};

export const RELATIVE_PATHS = Object.keys(BUDGETS);

const LEVELS = ['limit', 'clear', 'target'] as const;

function isRelative(level: Level | undefined): level is RelativeLevel {
  return typeof level === 'object' && level !== null;
}

/** A level in words: `0.9 × the snapshot's constraints.max_leverage`. */
export function describeLevel(level: RelativeLevel): string {
  return `${level.factor === 1 ? '' : `${level.factor} × `}the snapshot's ${level.from}`;
}

/**
 * When a clear or target level is provably above the limit, the limit as written (for the message);
 * levels on different footings (a number and a budget, or two budgets) are checked per snapshot.
 */
export function levelAbove(level: Level | undefined, limit: Level): string | null {
  if (level === undefined) return null;
  if (typeof level === 'number' && typeof limit === 'number') return level > limit ? String(limit) : null;
  if (
    isRelative(level) &&
    isRelative(limit) &&
    level.from === limit.from &&
    limit.factor > 0 &&
    level.factor > limit.factor
  ) {
    return describeLevel(limit);
  }
  return null;
}

/** Refusals for relative levels a rule cannot use, each naming the rule and the field. */
export function relativeLevelProblems(rule: RuleSpec): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const field of LEVELS) {
    const level = rule[field];
    if (!isRelative(level)) continue;
    const budget = BUDGETS[level.from];
    const shape = rule as Pick<RuleSpec, 'kind'> & { measure?: string; metric?: string };
    if (!budget) {
      const near = closest(level.from, RELATIVE_PATHS);
      const fitting = RELATIVE_PATHS.filter((p) => BUDGETS[p]!.fits(shape));
      out.push({
        path: [field, 'from'],
        message: `rule '${rule.id}': '${level.from}' is not a budget the snapshot carries${
          near ? ` (did you mean '${near}'?)` : ''
        }; ${
          fitting.length > 0
            ? `for this rule use ${fitting.join(' or ')}`
            : `no snapshot budget is in this rule's units (${RELATIVE_PATHS.join(', ')} are known)`
        }`,
      });
    } else if (!budget.fits(shape)) {
      out.push({
        path: [field, 'from'],
        message: `rule '${rule.id}': ${level.from} is ${budget.what}; it fits only ${budget.fitsWhat}, not a ${rule.kind} rule${shape.measure ? ` measuring ${shape.measure}` : ''}`,
      });
    }
  }
  return out;
}

/**
 * The rule with its levels read from this snapshot's constraints, or why it cannot be evaluated on
 * it (see the module comment for what the engine then does).
 */
export function resolveLevels(
  rule: RuleSpec,
  constraints: Record<string, unknown>,
): { rule: Rule } | { unavailable: string; evidence: Record<string, unknown> } {
  if (!LEVELS.some((f) => isRelative(rule[f]))) return { rule: rule as Rule };
  const resolved: Partial<Record<(typeof LEVELS)[number], number>> = {};
  const budgets: Record<string, unknown> = {};
  for (const field of LEVELS) {
    const level = rule[field];
    if (level === undefined) continue;
    if (!isRelative(level)) {
      resolved[field] = level;
      continue;
    }
    const key = level.from.slice('constraints.'.length);
    const raw = constraints[key];
    budgets[level.from] = raw ?? null;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0) {
      return {
        unavailable: `${field} is ${describeLevel(level)}, but this snapshot ${
          raw === undefined
            ? `has no ${level.from}`
            : `has ${level.from} = ${JSON.stringify(raw)}, not a positive number`
        }; the rule is not evaluated (an open episode stands)`,
        evidence: { budgets },
      };
    }
    resolved[field] = raw * level.factor;
  }
  const limit = resolved.limit!;
  for (const field of ['clear', 'target'] as const) {
    const v = resolved[field];
    if (v !== undefined && v > limit) {
      return {
        unavailable: `${field} resolves to ${v}, above the limit ${limit} on this snapshot; the rule is not evaluated (an open episode stands)`,
        evidence: { budgets, resolved },
      };
    }
  }
  return { rule: { ...rule, ...resolved } as Rule };
}

/** The candidate within edit distance 3, if any (for "did you mean"). */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
