import type { ExitSignal, SignalAction } from '#lib/contracts/exit-signal.js';
import { measureWithOverrides, whenApplies } from '#lib/rules/overrides.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import {
  durationMs,
  effectiveMode,
  type Rule,
  type RuleMode,
  type RuleSet,
  type RuleSpec,
} from '#lib/rules/rule-schema.js';
import { SharedMeasures } from '#lib/rules/shared-measures.js';
import type { RuleInput } from '#lib/rules/types.js';
import {
  ACTION_RANK,
  type EpisodeState,
  episodeKey,
  idleEpisode,
  stepEpisode,
  type Verdict,
} from './episodes.js';
import { sizeAction } from './size-action.js';

/**
 * The pure heart of the engine: measure every rule, size the action, advance each risk episode,
 * and merge what fires into one signal per strategy and channel. No I/O, no clock.
 */

/** A time-boxed silence on a rule (or all rules) for a world or one strategy. */
export interface Mute {
  mute_id: string;
  world_id: string;
  strategy_id?: string;
  rule_id?: string;
  until: string;
  reason: string;
  actor: string;
}

/** The mutes still in force from stored mute records (an unmuted one carries `ended_at`). */
export function activeMutes(records: readonly (Mute & { ended_at?: string })[]): Mute[] {
  return records
    .filter((m) => m.ended_at === undefined)
    .map((m) => ({
      mute_id: m.mute_id,
      world_id: m.world_id,
      ...(m.strategy_id ? { strategy_id: m.strategy_id } : {}),
      ...(m.rule_id ? { rule_id: m.rule_id } : {}),
      until: m.until,
      reason: m.reason,
      actor: m.actor,
    }));
}

/**
 * A cut proposed for approval that ops approved (or the timeout sweep emitted by default): it has
 * reached, or is about to reach, the gateway. Only these earn a hold when their episode clears.
 */
export interface ApprovedCut {
  strategy_id: string;
  rule_ids: string[];
  /** When the proposal was made (the evaluation's `now`). */
  emitted_at: string;
}

/**
 * When the oldest open episode of an approval-mode rule began, or undefined when none is open: the
 * engine reads approved cuts (one query) only then, since only such an episode can clear into a hold.
 */
export function openApprovalSince(
  ruleSet: RuleSet,
  episodes: ReadonlyMap<string, EpisodeState>,
): string | undefined {
  const approvalRules = new Set(
    ruleSet.rules.filter((r) => effectiveMode(ruleSet, r) === 'approval').map((r) => r.id),
  );
  let since: string | undefined;
  for (const e of episodes.values()) {
    if (e.status !== 'active' || !approvalRules.has(e.rule_id)) continue;
    const opened = e.opened_at ?? '';
    if (since === undefined || opened < since) since = opened;
  }
  return since;
}

/** Whether a stored signal row is an approved approval-mode cut (approved, or since published). */
export function isApprovedCut(row: { mode: string; status: string; action: string }): boolean {
  return (
    row.mode === 'approval' &&
    (row.status === 'approved' || row.status === 'published') &&
    row.action !== 'hold'
  );
}

/** Where a decided signal goes: published, held for approval, stored only, or silenced. */
export type Channel = RuleMode | 'muted';

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

/** A rule's ask for one strategy, before the merge. */
interface Ask {
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

export interface EvaluationResult {
  outcomes: RuleOutcome[];
  /** Episodes whose state changed, with the version they were read at (for the conditional write). */
  episodes: EpisodeState[];
  signals: DecidedSignal[];
}

export interface EvaluateArgs {
  ruleSet: RuleSet;
  input: RuleInput;
  episodes: ReadonlyMap<string, EpisodeState>;
  mutes: readonly Mute[];
  /**
   * Approved approval-mode cuts of this world since its open approval episodes began: a cleared
   * approval episode proposes a hold only to strategies whose cut is among them (none: no hold).
   */
  approvedCuts?: readonly ApprovedCut[];
  /** ISO form of input.nowMs, for stored timestamps. */
  now: string;
}

const EPS = 1e-12;

/** Evaluates a rule set against one prepared snapshot and the current episode states. */
export function evaluateRuleSet({
  ruleSet,
  input: given,
  episodes,
  mutes,
  approvedCuts = [],
  now,
}: EvaluateArgs): EvaluationResult {
  // Rules measuring the same series share the work, within this evaluation only.
  const input: RuleInput = { ...given, shared: new SharedMeasures(given.snapshot) };
  const outcomes: RuleOutcome[] = [];
  const changed: EpisodeState[] = [];
  const asks: Ask[] = [];
  const clears: Ask[] = [];
  const standing = new Map<Channel, Map<string, Ask[]>>();
  const { snapshot } = input;
  const ids = new Set(snapshot.ids);
  const liveStrategies = new Set(snapshot.ids.filter((_, i) => Math.abs(snapshot.weights[i]!) > EPS));

  for (const spec of ruleSet.rules) {
    const mode = effectiveMode(ruleSet, spec);
    if (!whenApplies(spec, snapshot)) {
      outcomes.push(notApplicable(spec, mode, snapshot));
      continue;
    }
    // Levels relative to the snapshot's budget; without it the rule is audited unevaluable (fail closed).
    const resolved = resolveLevels(spec, snapshot.constraints);
    if ('unavailable' in resolved) {
      outcomes.push(unevaluable(spec, mode, resolved));
      continue;
    }
    const baseRule = resolved.rule;
    for (const [rule, m] of measureWithOverrides(baseRule, input)) {
      const clear = rule.clear ?? rule.limit;
      const target = rule.target ?? rule.limit;
      const strategies = m.strategies.filter((s) => liveStrategies.has(s));
      const sizing = sizeAction(rule, m, target, strategies);
      const prev = episodes.get(episodeKey(rule.id, m.scopeKey)) ?? idleEpisode(rule.id, m.scopeKey);
      const maxRatio = Math.max(0, ...Object.values(sizing.ratios));
      const { next, verdict } = stepEpisode(prev, {
        value: m.value,
        limit: rule.limit,
        clear,
        persistence:
          typeof rule.persistence === 'number'
            ? rule.persistence
            : { forMs: durationMs(rule.persistence.for) },
        dataKey: dataKey(rule, input),
        proposed: { action: sizing.action, ratio: maxRatio },
        minRatioStep: rule.reemit.min_ratio_step,
        repeatAfterMs:
          rule.reemit.repeat_after_sec === undefined ? undefined : rule.reemit.repeat_after_sec * 1000,
        ...(rule.lockout ? { lockoutMs: durationMs(rule.lockout) } : {}),
        ...(rule.cooldown ? { cooldownMs: durationMs(rule.cooldown) } : {}),
        nowMs: input.nowMs,
        now,
        asOf: snapshot.as_of,
      });
      const breached = m.value !== null && m.value > rule.limit;
      const muteOf = (s: string) => findMute(mutes, snapshot.world_id, s, rule.id, input.nowMs);
      const emits = verdict === 'fired' || verdict === 'escalated' || verdict === 'repeated';
      // Strategies a mute kept from the gateway and whose mute has ended while the breach goes on.
      const unmuted =
        verdict === 'active' && breached ? (prev.muted_strategies ?? []).filter((s) => !muteOf(s)) : [];
      const before = standingRatios(prev);
      // A strategy that appears while a world-wide episode is open gets its standing action at once.
      const joined: Record<string, number> = {};
      const covered = prev.covered_strategies;
      const holding = verdict === 'active' || verdict === 'locked_out' || verdict === 'cooling_down';
      if (rule.scope === 'world' && holding && next.status === 'active' && covered) {
        for (const s of strategies) {
          if (s in before || covered.includes(s)) continue;
          const r = joinerRatio(rule, prev, sizing.ratios[s] ?? 0, breached);
          if (r > EPS) joined[s] = r;
        }
      }
      const toldNow: Record<string, number> = emits
        ? Object.fromEntries(
            strategies.filter((s) => (sizing.ratios[s] ?? 0) > EPS).map((s) => [s, sizing.ratios[s]!]),
          )
        : joined;
      const told = Object.keys(toldNow);
      if (told.length > 0) {
        next.signalled_strategies = [...new Set([...(prev.signalled_strategies ?? []), ...told])].sort();
        const ratios = { ...before };
        for (const s of told) ratios[s] = toldNow[s]! >= 1 - EPS ? 1 : toldNow[s]!;
        next.standing_ratios = ratios;
        const muted = told.filter((s) => muteOf(s));
        const keep = emits ? [] : (prev.muted_strategies ?? []);
        const all = [...new Set([...keep, ...muted])].sort();
        if (all.length > 0) next.muted_strategies = all;
        else delete next.muted_strategies;
      } else if (unmuted.length > 0) {
        const still = (prev.muted_strategies ?? []).filter((s) => !unmuted.includes(s));
        if (still.length > 0) next.muted_strategies = still;
        else delete next.muted_strategies;
      }
      if (rule.scope === 'world' && next.status === 'active')
        next.covered_strategies = [...strategies].sort();
      if (!sameEpisode(prev, next)) changed.push(next);
      outcomes.push({
        rule_id: rule.id,
        kind: rule.kind,
        mode,
        scope: rule.scope,
        scope_key: m.scopeKey,
        measure: m.value,
        limit: rule.limit,
        clear,
        target,
        utilization: m.value === null || rule.limit === 0 ? null : m.value / rule.limit,
        verdict: unmuted.length > 0 ? 'unmuted' : told.length > 0 && !emits ? 'joined' : verdict,
        ...(m.unavailable ? { unavailable: m.unavailable } : {}),
        ...(breached
          ? {
              proposed: {
                action: sizing.action,
                ratio: maxRatio,
                sizing: sizing.method,
                ...(sizing.after !== undefined ? { after: sizing.after } : {}),
              },
            }
          : {}),
        evidence: m.evidence,
      });

      // Evidence first: the engine's own fields (measure, limit, …) must not be overwritten by it.
      const metrics = {
        ...m.evidence,
        rule_id: rule.id,
        kind: rule.kind,
        measure: m.value,
        limit: rule.limit,
        clear,
        target,
        utilization: m.value === null || rule.limit === 0 ? null : m.value / rule.limit,
        ...(breached ? { sizing: sizing.method, measure_after: sizing.after ?? null, ...sizing.notes } : {}),
      };
      if (next.status === 'active') {
        // What this episode has told each strategy and still stands by (for the clears below).
        for (const [s, ratio] of Object.entries(standingRatios(next))) {
          if (ratio <= EPS) continue;
          const channel = channelFor(mode, muteOf(s));
          const byStrategy = standing.get(channel) ?? new Map<string, Ask[]>();
          standing.set(channel, byStrategy);
          const list = byStrategy.get(s) ?? [];
          byStrategy.set(s, list);
          list.push({
            rule,
            mode,
            channel,
            strategy_id: s,
            action: ratio >= 1 - EPS ? 'exit' : 'reduce',
            ratio: ratio >= 1 - EPS ? 1 : ratio,
            reason: `${rule.kind}_breach`,
            metrics: { ...forStrategy(metrics, s, ids), verdict: 'standing', episode_id: next.episode_id },
            scope: rule.scope,
            ...(muteOf(s) ? { mute: muteOf(s)! } : {}),
          });
        }
      }
      const askFor = emits ? strategies : unmuted.length > 0 ? unmuted : Object.keys(joined);
      if (emits || unmuted.length > 0 || told.length > 0) {
        for (const s of askFor) {
          const ratio = emits || unmuted.length > 0 ? (sizing.ratios[s] ?? 0) : joined[s]!;
          if (ratio <= EPS) continue;
          const mute = muteOf(s);
          const action: SignalAction = ratio >= 1 - EPS ? 'exit' : sizing.action;
          asks.push({
            rule,
            mode,
            channel: channelFor(mode, mute),
            strategy_id: s,
            action,
            ratio: action === 'exit' ? 1 : ratio,
            reason: `${rule.kind}_breach`,
            metrics: {
              ...forStrategy(metrics, s, ids),
              verdict: emits ? verdict : unmuted.length > 0 ? 'unmuted' : 'joined',
            },
            scope: rule.scope,
            ...(mute ? { mute } : {}),
          });
        }
      } else if (verdict === 'cleared') {
        // Only strategies this episode told to cut hear that it is over (even if since exited).
        for (const s of prev.signalled_strategies ?? strategies) {
          const mute = findMute(mutes, snapshot.world_id, s, rule.id, input.nowMs);
          // In approval mode, only a cut ops approved moved the gateway: nothing else to undo.
          if (!mute && mode === 'approval' && !wasApproved(approvedCuts, rule.id, s, prev.opened_at))
            continue;
          clears.push({
            rule,
            mode,
            channel: channelFor(mode, mute),
            strategy_id: s,
            action: 'hold',
            ratio: 0,
            reason: 'risk_episode_cleared',
            metrics: {
              ...forStrategy(metrics, s, ids),
              verdict,
              episode_id: prev.episode_id,
              episode_opened_at: prev.opened_at,
            },
            scope: rule.scope,
            told: before[s] ?? prev.last_ratio ?? 0,
            ...(mute ? { mute } : {}),
          });
        }
      }
    }
  }

  // A cleared episode says `hold` only to strategies no other open episode has told to cut. Where
  // one has, and the cleared episode's cut was stricter, the strategy is told the standing (most
  // restrictive remaining) action instead, so the gateway never stays at a level nobody asks for.
  for (const c of clears) {
    const others = standing
      .get(c.channel)
      ?.get(c.strategy_id)
      ?.filter((a) => a.rule.id !== c.rule.id);
    if (!others || others.length === 0) {
      asks.push(c);
      continue;
    }
    const strictest = Math.max(...others.map((a) => a.ratio));
    if ((c.told ?? 0) > strictest + EPS) {
      for (const a of others)
        asks.push({
          ...a,
          metrics: { ...a.metrics, cleared_rule_id: c.rule.id, cleared_episode_id: c.metrics.episode_id },
        });
    }
  }
  return { outcomes, episodes: changed, signals: mergeAsks(asks) };
}

/**
 * The identity of the data a rule measures, for persistence: the hub snapshot (version and as_of);
 * for market rules also the market view they read; staleness measures time itself, so every
 * evaluation is new data for it.
 */
function dataKey(rule: Rule, input: RuleInput): string {
  const snap = `${input.snapshot.version}@${input.snapshot.as_of}`;
  if (rule.kind === 'staleness') return `${snap}|t=${input.nowMs}`;
  if (rule.kind === 'volatility_regime' || rule.kind === 'liquidity') {
    return `${snap}|${rule.market_scope}@${input.market.get(rule.market_scope)?.as_of ?? 'none'}`;
  }
  return snap;
}

/** Whether an approved cut of this rule reached this strategy during the episode opened at `openedAt`. */
function wasApproved(
  cuts: readonly ApprovedCut[],
  ruleId: string,
  strategyId: string,
  openedAt: string | undefined,
): boolean {
  return cuts.some(
    (c) =>
      c.strategy_id === strategyId &&
      c.rule_ids.includes(ruleId) &&
      (openedAt === undefined || c.emitted_at >= openedAt),
  );
}

/** The audit row of a rule whose `when` does not match this snapshot: not measured, no episode step. */
function notApplicable(rule: RuleSpec, mode: RuleMode, snapshot: RuleInput['snapshot']): RuleOutcome {
  return {
    ...unmeasured(rule, mode),
    verdict: 'not_applicable',
    evidence: { when: rule.when, stage: snapshot.stage ?? null, actor: snapshot.actor ?? null },
  };
}

/** The audit row of a rule whose relative levels this snapshot cannot give: not measured, no episode step. */
function unevaluable(
  rule: RuleSpec,
  mode: RuleMode,
  why: { unavailable: string; evidence: Record<string, unknown> },
): RuleOutcome {
  return {
    ...unmeasured(rule, mode),
    verdict: 'unavailable',
    unavailable: why.unavailable,
    evidence: { ...why.evidence, limit: rule.limit, clear: rule.clear ?? null, target: rule.target ?? null },
  };
}

/** A rule's audit row without a measure; levels relative to a budget are recorded as NaN (stored null). */
function unmeasured(rule: RuleSpec, mode: RuleMode) {
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
  };
}

/** What an episode has told each strategy (1 = exit); for states stored before this was kept, its last action for all it told. */
function standingRatios(e: EpisodeState): Record<string, number> {
  if (e.standing_ratios) return e.standing_ratios;
  const r = e.last_action === 'exit' ? 1 : (e.last_ratio ?? 0);
  return Object.fromEntries((e.signalled_strategies ?? []).map((s) => [s, r]));
}

/**
 * The standing action of an open world-wide episode for a strategy it has not told yet: an exit or a
 * fixed cut as the rule says; a uniform reduce at the episode's last ratio; a contribution reduce at
 * the strategy's share of the current cut (nothing while the measure is back within the limit).
 */
function joinerRatio(rule: Rule, prev: EpisodeState, current: number, breached: boolean): number {
  if (prev.last_action === 'exit' || rule.action.type === 'exit') return 1;
  if (rule.action.type === 'reduce_fixed') return rule.action.ratio;
  if (rule.action.sizing === 'contribution') return breached ? current : 0;
  return prev.last_ratio ?? 0;
}

/**
 * A signal's evidence keeps, of any per-strategy map (e.g. `components`), only its own strategy's
 * entry: the full map is in the audit record once, and repeating it on every signal would grow an
 * event quadratically with the number of strategies (EventBridge caps an event at 256 KB).
 */
function forStrategy(metrics: Record<string, unknown>, strategy: string, ids: ReadonlySet<string>) {
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

function channelFor(mode: RuleMode, mute: Mute | undefined): Channel {
  return mute ? 'muted' : mode;
}

/** The active mute covering this rule and strategy, if any (the latest-ending one). */
export function findMute(
  mutes: readonly Mute[],
  worldId: string,
  strategyId: string,
  ruleId: string,
  nowMs: number,
): Mute | undefined {
  let found: Mute | undefined;
  for (const m of mutes) {
    if (m.world_id !== worldId) continue;
    if (m.strategy_id !== undefined && m.strategy_id !== strategyId) continue;
    if (m.rule_id !== undefined && m.rule_id !== ruleId) continue;
    if (Date.parse(m.until) <= nowMs) continue;
    if (!found || m.until > found.until) found = m;
  }
  return found;
}

function sameEpisode(a: EpisodeState, b: EpisodeState): boolean {
  return (
    a.status === b.status &&
    a.breach_count === b.breach_count &&
    a.last_action === b.last_action &&
    a.last_ratio === b.last_ratio &&
    a.last_emitted_at === b.last_emitted_at &&
    a.episode_id === b.episode_id &&
    a.clear_since === b.clear_since &&
    (a.muted_strategies ?? []).join() === (b.muted_strategies ?? []).join() &&
    (a.signalled_strategies ?? []).join() === (b.signalled_strategies ?? []).join() &&
    JSON.stringify(a.standing_ratios ?? {}) === JSON.stringify(b.standing_ratios ?? {}) &&
    (a.covered_strategies ?? []).join() === (b.covered_strategies ?? []).join()
  );
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
