import type { ExitSignal, SignalAction } from '#lib/contracts/exit-signal.js';
import { round } from '#lib/rules/kinds/shared.js';
import type { Rule, RuleMode } from '#lib/rules/rule-schema.js';
import { ACTION_RANK } from './episodes.js';
import type { Mute } from './mutes-and-cuts.js';

/** The asks of every rule merged into one signal per strategy and channel. */

/** Where a decided signal goes: published, held for approval, stored only, or silenced. */
export type Channel = RuleMode | 'muted';

/** A rule's ask for one strategy, before the merge. */
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
  /**
   * The measure and limit behind the ask, for the signal's list of contributing rules, when the
   * ask's `metrics` are built only on demand (only the winning ask's metrics reach the signal).
   */
  levels?: { measure: unknown; limit: unknown };
}

/** A merged signal for one strategy in one channel, with every rule that asked for it. */
export interface DecidedSignal {
  channel: Channel;
  signal: ExitSignal & {
    reduction_ratio: number;
    reason: string;
    tags: string[];
    metrics: Record<string, unknown>;
  };
  rule_ids: string[];
  severity: string;
  approval?: NonNullable<Rule['approval']>;
  mute?: Mute;
}

export function channelFor(mode: RuleMode, mute: Mute | undefined): Channel {
  return mute ? 'muted' : mode;
}

/**
 * Per strategy and channel the most restrictive ask wins: exit > reduce > hold, then the largest
 * ratio, then the lower priority number, then the rule id; every asking rule stays on the signal.
 */
export function mergeAsks(asks: readonly Ask[]): DecidedSignal[] {
  // By channel, then strategy: no key string built and hashed per ask (there are hundreds).
  const byChannel = new Map<Channel, Map<string, Ask[]>>();
  const groups: Ask[][] = [];
  for (const ask of asks) {
    let byStrategy = byChannel.get(ask.channel);
    if (!byStrategy) {
      byStrategy = new Map();
      byChannel.set(ask.channel, byStrategy);
    }
    const group = byStrategy.get(ask.strategy_id);
    if (group) group.push(ask);
    else {
      const created = [ask];
      byStrategy.set(ask.strategy_id, created);
      groups.push(created);
    }
  }
  const out: DecidedSignal[] = [];
  for (const group of groups) {
    group.sort(
      (a, b) =>
        ACTION_RANK[b.action] - ACTION_RANK[a.action] ||
        b.ratio - a.ratio ||
        a.rule.priority - b.rule.priority ||
        (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0),
    );
    const primary = group[0]!;
    const ruleIds = [...new Set(group.map((a) => a.rule.id))];
    // Optional fields set one by one, in the same key order: spreads of optional parts into a
    // literal give each object a fresh hidden class on Node 20.
    const decided = {
      channel: primary.channel,
      rule_ids: ruleIds,
      severity: primary.rule.severity,
    } as DecidedSignal;
    if (primary.rule.approval) decided.approval = primary.rule.approval;
    if (primary.mute) decided.mute = primary.mute;
    decided.signal = {
      strategy_id: primary.strategy_id,
      action: primary.action,
      reduction_ratio: roundRatio(primary.ratio),
      reason: primary.reason,
      metrics: Object.assign({}, primary.metrics, {
        contributing_rules: group.map((a) => ({
          rule_id: a.rule.id,
          action: a.action,
          reduction_ratio: roundRatio(a.ratio),
          priority: a.rule.priority,
          measure: (a.levels ?? a.metrics).measure,
          limit: (a.levels ?? a.metrics).limit,
        })),
      }),
      tags: [
        ...ruleIds.map((id) => `rule:${id}`),
        `severity:${primary.rule.severity}`,
        `priority:${primary.rule.priority}`,
        `scope:${primary.scope}`,
        `mode:${primary.mode}`,
        ...(primary.mute ? [`muted_by:${primary.mute.mute_id}`] : []),
      ],
    };
    out.push(decided);
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

/**
 * Ratios are published to 12 significant digits: enough to restore a target within 1e-9. `round` is
 * exactly Number(x.toPrecision(12)) (0 for ±0), without the string round trip.
 */
function roundRatio(x: number): number {
  return round(x);
}
