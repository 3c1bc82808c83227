import type { SignalAction } from '#lib/contracts/exit-signal.js';
import type { Rule } from '#lib/rules/rule-schema.js';
import { type SizingSupport, sizingSupport } from '#lib/rules/sizing-support.js';
import type { RuleMeasurement } from '#lib/rules/types.js';

/** How a breach is sized: the action, the method, each strategy's ratio and the measure after. */
export interface Sizing {
  action: SignalAction;
  method: string;
  ratios: Record<string, number>;
  after?: number;
  /** What was done, in words and numbers, for the signal's metrics (basis, order, fallback reason). */
  notes?: Record<string, unknown>;
}

/**
 * The smallest cut that restores the target, per the rule's action (BRIEF §4 "Size the action").
 * Which sizing a rule may ask for is fixed by `sizingSupport` and enforced when the rule set is
 * validated: a sized `reduce` only for measures a cut moves, `contribution` only where a
 * contribution is defined. Every result says what it did: `uniform` (every strategy by
 * 1 − target/measure, exact for a homogeneous measure), `exact` (the kind's own uniform-policy cut),
 * `contribution` (largest contributors first, with the basis and the order), `uniform_fallback`
 * (contribution asked for but these inputs do not allow it, with the reason), `fixed`, `exit`.
 * `support` is the rule's `sizingSupport`, passed in when the caller has it compiled already.
 */
export function sizeAction(
  rule: Rule,
  m: RuleMeasurement,
  target: number,
  strategies: string[],
  support: SizingSupport = sizingSupport(rule),
): Sizing {
  const action = rule.action;
  // After an exit a measure that scales with the positions (homogeneous: VaR, ES, stress loss, ADV
  // use) is 0; one that does not (a VIX level, a realized drawdown, a data age) is not known to move.
  if (action.type === 'exit')
    return {
      action: 'exit',
      method: 'exit',
      ratios: every(strategies, 1),
      ...(support.homogeneous ? { after: 0 } : {}),
    };
  if (action.type === 'reduce_fixed') {
    return {
      action: 'reduce',
      method: 'fixed',
      ratios: every(strategies, action.ratio),
      ...(m.value !== null && support.homogeneous ? { after: m.value * (1 - action.ratio) } : {}),
      ...(support.reduce
        ? { notes: { sizing_note: 'a fixed de-risking cut: no position cut moves this measure' } }
        : {}),
    };
  }
  if (support.reduce) {
    // Unreachable for a rule set that passed validation; refusing loudly beats publishing a made-up size.
    throw new RangeError(`rule '${rule.id}': ${support.reduce}`);
  }
  if (m.value === null || m.value <= target)
    return { action: 'reduce', method: action.sizing, ratios: every(strategies, 0) };
  if (action.sizing === 'contribution') {
    const c = m.contributionSizing;
    if (c) {
      return {
        action: 'reduce',
        method: 'contribution',
        ratios: picked(strategies, c.ratios),
        after: c.after,
        notes: {
          contribution_basis: support.contributionBasis,
          ...(c.order ? { contribution_order: c.order } : {}),
          ...(c.reached === false ? { contribution_reached: false } : {}),
        },
      };
    }
    if (!m.contributionUnavailable && strategies.length <= 1 && support.homogeneous) {
      // One strategy: its own position is the whole contribution, and 1 − target/measure is exact.
      const r = clamp01(1 - target / m.value);
      return {
        action: 'reduce',
        method: 'contribution',
        ratios: every(strategies, r),
        after: m.value * (1 - r),
        notes: { contribution_basis: 'the strategy’s own position' },
      };
    }
    const r = clamp01(1 - target / m.value);
    return {
      action: 'reduce',
      method: 'uniform_fallback',
      ratios: m.uniformSizing ? picked(strategies, m.uniformSizing.ratios) : every(strategies, r),
      after: m.uniformSizing ? m.uniformSizing.after : m.value * (1 - r),
      notes: {
        sizing_fallback_reason:
          m.contributionUnavailable ?? 'no contribution could be computed from these inputs',
      },
    };
  }
  if (m.uniformSizing)
    return {
      action: 'reduce',
      method: 'exact',
      ratios: picked(strategies, m.uniformSizing.ratios),
      after: m.uniformSizing.after,
    };
  // Homogeneous of degree one in the weights: cutting all by r scales the measure by 1 − r.
  const r = clamp01(1 - target / m.value);
  return { action: 'reduce', method: 'uniform', ratios: every(strategies, r), after: m.value * (1 - r) };
}

/** The same ratio for every strategy. */
function every(strategies: readonly string[], ratio: number): Record<string, number> {
  const ratios: Record<string, number> = {};
  for (const s of strategies) ratios[s] = ratio;
  return ratios;
}

/** Each strategy's sized ratio, clamped to [0, 1] (0 where the sizing names none). */
function picked(strategies: readonly string[], sized: Record<string, number>): Record<string, number> {
  const ratios: Record<string, number> = {};
  for (const s of strategies) ratios[s] = clamp01(sized[s] ?? 0);
  return ratios;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}
