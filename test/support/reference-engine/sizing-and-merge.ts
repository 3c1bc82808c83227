import type { SignalAction } from '#lib/contracts/exit-signal.js';
import { ACTION_RANK } from '#lib/engine/episodes.js';
import type { Channel, DecidedSignal } from '#lib/engine/merge-asks.js';
import type { Mute } from '#lib/engine/mutes-and-cuts.js';
import type { Rule, RuleMode } from '#lib/rules/rule-schema.js';
import { sizingSupport } from '#lib/rules/sizing-support.js';
import type { RuleMeasurement } from '#lib/rules/types.js';

// Sizing, evidence trimming and the merge as first written, kept as the reference the optimized
// engine is checked against. Do not optimize this file.

/** A rule's ask for one strategy, before the merge (its evidence built in full). */
export interface Ask {
  rule: Rule;
  mode: RuleMode;
  channel: Channel;
  strategy_id: string;
  action: SignalAction;
  ratio: number;
  reason: string;
  metrics: Record<string, unknown>;
  scope: 'world' | 'strategy';
  mute?: Mute;
  /** For a clear: the ratio the cleared episode had told this strategy. */
  told?: number;
}

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
 */
export function sizeAction(rule: Rule, m: RuleMeasurement, target: number, strategies: string[]): Sizing {
  const all = (ratio: number) => Object.fromEntries(strategies.map((s) => [s, ratio]));
  const support = sizingSupport(rule);
  const action = rule.action;
  if (action.type === 'exit')
    return { action: 'exit', method: 'exit', ratios: all(1), ...(support.homogeneous ? { after: 0 } : {}) };
  if (action.type === 'reduce_fixed') {
    return {
      action: 'reduce',
      method: 'fixed',
      ratios: all(action.ratio),
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
    return { action: 'reduce', method: action.sizing, ratios: all(0) };
  const pick = (sized: { ratios: Record<string, number> }) => {
    const ratios: Record<string, number> = {};
    for (const s of strategies) ratios[s] = clamp01(sized.ratios[s] ?? 0);
    return ratios;
  };
  if (action.sizing === 'contribution') {
    const c = m.contributionSizing;
    if (c) {
      return {
        action: 'reduce',
        method: 'contribution',
        ratios: pick(c),
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
        ratios: all(r),
        after: m.value * (1 - r),
        notes: { contribution_basis: 'the strategy’s own position' },
      };
    }
    const r = clamp01(1 - target / m.value);
    return {
      action: 'reduce',
      method: 'uniform_fallback',
      ratios: m.uniformSizing ? pick(m.uniformSizing) : all(r),
      after: m.uniformSizing ? m.uniformSizing.after : m.value * (1 - r),
      notes: {
        sizing_fallback_reason:
          m.contributionUnavailable ?? 'no contribution could be computed from these inputs',
      },
    };
  }
  if (m.uniformSizing)
    return { action: 'reduce', method: 'exact', ratios: pick(m.uniformSizing), after: m.uniformSizing.after };
  // Homogeneous of degree one in the weights: cutting all by r scales the measure by 1 − r.
  const r = clamp01(1 - target / m.value);
  return { action: 'reduce', method: 'uniform', ratios: all(r), after: m.value * (1 - r) };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}
/**
 * Per strategy and channel the most restrictive ask wins: exit > reduce > hold, then the largest
 * ratio, then the lower priority number, then the rule id; every asking rule stays on the signal.
 */
export function mergeAsks(asks: readonly Ask[]): DecidedSignal[] {
  const groups = new Map<string, Ask[]>();
  for (const ask of asks) {
    const key = `${ask.channel}\u0000${ask.strategy_id}`;
    const group = groups.get(key);
    if (group) group.push(ask);
    else groups.set(key, [ask]);
  }
  const out: DecidedSignal[] = [];
  for (const group of groups.values()) {
    group.sort(
      (a, b) =>
        ACTION_RANK[b.action] - ACTION_RANK[a.action] ||
        b.ratio - a.ratio ||
        a.rule.priority - b.rule.priority ||
        (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0),
    );
    const primary = group[0]!;
    const ruleIds = [...new Set(group.map((a) => a.rule.id))];
    out.push({
      channel: primary.channel,
      rule_ids: ruleIds,
      severity: primary.rule.severity,
      ...(primary.rule.approval ? { approval: primary.rule.approval } : {}),
      ...(primary.mute ? { mute: primary.mute } : {}),
      signal: {
        strategy_id: primary.strategy_id,
        action: primary.action,
        reduction_ratio: roundRatio(primary.ratio),
        reason: primary.reason,
        metrics: {
          ...primary.metrics,
          contributing_rules: group.map((a) => ({
            rule_id: a.rule.id,
            action: a.action,
            reduction_ratio: roundRatio(a.ratio),
            priority: a.rule.priority,
            measure: a.metrics.measure,
            limit: a.metrics.limit,
          })),
        },
        tags: [
          ...ruleIds.map((id) => `rule:${id}`),
          `severity:${primary.rule.severity}`,
          `priority:${primary.rule.priority}`,
          `scope:${primary.scope}`,
          `mode:${primary.mode}`,
          ...(primary.mute ? [`muted_by:${primary.mute.mute_id}`] : []),
        ],
      },
    });
  }
  return out.sort((a, b) =>
    a.channel === b.channel
      ? a.signal.strategy_id < b.signal.strategy_id
        ? -1
        : 1
      : a.channel < b.channel
        ? -1
        : 1,
  );
}

/** Ratios are published to 12 significant digits: enough to restore a target within 1e-9. */
function roundRatio(x: number): number {
  return Number(x.toPrecision(12));
}
/**
 * A signal's evidence keeps, of any per-strategy map (e.g. `components`), only its own strategy's
 * entry: the full map is in the audit record once, and repeating it on every signal would grow an
 * event quadratically with the number of strategies (EventBridge caps an event at 256 KB).
 */
export function forStrategy(metrics: Record<string, unknown>, strategy: string, ids: ReadonlySet<string>) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metrics)) {
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
