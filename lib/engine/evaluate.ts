import type { SignalAction } from '#lib/contracts/exit-signal.js';
import { measureWithOverrides, whenApplies } from '#lib/rules/overrides.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import type { Rule, RuleMode, RuleSet } from '#lib/rules/rule-schema.js';
import { SharedMeasures } from '#lib/rules/shared-measures.js';
import type { RuleInput, RuleMeasurement } from '#lib/rules/types.js';
import { carriedOpenEpisodes } from './carried-episodes.js';
import { compileRuleSet } from './compiled-rules.js';
import { dataKey, joinerRatio, sameEpisode, standingRatios } from './episode-standing.js';
import { type EpisodeState, episodeKey, idleEpisode, stepEpisode } from './episodes.js';
import { type Ask, type Channel, channelFor, type DecidedSignal, mergeAsks } from './merge-asks.js';
import { type ApprovedCut, findMute, type Mute, wasApproved } from './mutes-and-cuts.js';
import { forStrategy, notApplicable, type RuleOutcome, unevaluable } from './rule-outcomes.js';
import { type Sizing, sizeAction } from './size-action.js';

/**
 * The pure heart of the engine: measure every rule, size the action, advance each risk episode,
 * and merge what fires into one signal per strategy and channel. No I/O, no clock.
 */

export type { Channel, DecidedSignal } from './merge-asks.js';
export { mergeAsks } from './merge-asks.js';
export type { ApprovedCut, Mute } from './mutes-and-cuts.js';
export { activeMutes, approvedCutOf, findMute, isApprovedCut, openApprovalSince } from './mutes-and-cuts.js';
export type { RuleOutcome } from './rule-outcomes.js';

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
  /**
   * A later evaluation of a snapshot already evaluated (snapshot-reuse.ts): only these rules are
   * measured and stepped; every other rule's episode is carried as it is (carried-episodes.ts).
   * Absent: every rule.
   */
  rerun?: ReadonlySet<string>;
}

const EPS = 1e-12;

/** The standing ratios of an episode that has told no strategy anything (never written to). */
const NOTHING: Readonly<Record<string, number>> = Object.freeze({});

/** An episode left open by this evaluation: what it stands by, kept until a clear needs to know. */
interface OpenEpisode {
  rule: Rule;
  mode: RuleMode;
  reason: string;
  next: EpisodeState;
  levels: { measure: unknown; limit: unknown };
  metrics: SignalMetrics;
  muteOf: RuleMutes;
}

/**
 * An ask whose `metrics` (the signal's evidence, trimmed to its strategy) are built on first read:
 * only the winning ask of each strategy and channel becomes a signal, so most never are.
 */
class LazyAsk implements Ask {
  private built: Record<string, unknown> | undefined;
  constructor(
    readonly rule: Rule,
    readonly mode: RuleMode,
    readonly channel: Channel,
    readonly strategy_id: string,
    readonly action: SignalAction,
    readonly ratio: number,
    readonly reason: string,
    readonly scope: 'world' | 'strategy',
    readonly levels: { measure: unknown; limit: unknown },
    private readonly build: () => Record<string, unknown>,
    readonly mute: Mute | undefined,
    readonly told?: number,
  ) {}

  get metrics(): Record<string, unknown> {
    if (this.built === undefined) this.built = this.build();
    return this.built;
  }
}

/**
 * A measurement's signal metrics: its evidence first, then the engine's own fields (measure, limit,
 * …), which the evidence must not overwrite. Built only if an ask of the measurement becomes a signal.
 */
class SignalMetrics {
  private built: Record<string, unknown> | undefined;
  constructor(
    private readonly rule: Rule,
    private readonly m: RuleMeasurement,
    private readonly clear: number,
    private readonly target: number,
    private readonly utilization: number | null,
    /** The sizing of a breach; undefined when the measure is not in breach. */
    private readonly sizing: Sizing | undefined,
  ) {}
  get(): Record<string, unknown> {
    if (this.built) return this.built;
    const { rule, m, sizing } = this;
    const engine = {
      rule_id: rule.id,
      kind: rule.kind,
      measure: m.value,
      limit: rule.limit,
      clear: this.clear,
      target: this.target,
      utilization: this.utilization,
    };
    const sized = sizing
      ? { sizing: sizing.method, measure_after: sizing.after ?? null, ...sizing.notes }
      : {};
    this.built = Object.assign({}, m.evidence, engine, sized);
    return this.built;
  }
}

/** The mute, if any, silencing one rule for each strategy: looked up once per strategy. */
class RuleMutes {
  private readonly found = new Map<string, Mute | undefined>();
  constructor(
    private readonly mutes: readonly Mute[],
    private readonly world: string,
    private readonly ruleId: string,
    private readonly nowMs: number,
  ) {}
  of(s: string): Mute | undefined {
    if (this.found.has(s)) return this.found.get(s);
    const mute =
      this.mutes.length === 0 ? undefined : findMute(this.mutes, this.world, s, this.ruleId, this.nowMs);
    this.found.set(s, mute);
    return mute;
  }
}

const QUIET_EXIT: Sizing = Object.freeze({ action: 'exit', method: 'exit', ratios: NOTHING });
const QUIET_REDUCE: Sizing = Object.freeze({ action: 'reduce', method: 'none', ratios: NOTHING });

/** What a measure within its limit stands by: the rule's action (`sizeAction`'s for it), no ratios. */
function quietSizing(rule: Rule): Sizing {
  return rule.action.type === 'exit' ? QUIET_EXIT : QUIET_REDUCE;
}

/** Evaluates a rule set against one prepared snapshot and the current episode states. */
export function evaluateRuleSet({
  ruleSet,
  input: given,
  episodes,
  mutes,
  approvedCuts = [],
  now,
  rerun,
}: EvaluateArgs): EvaluationResult {
  // Rules measuring the same series share the work, within this evaluation only.
  const input: RuleInput = Object.assign({}, given, { shared: new SharedMeasures(given.snapshot) });
  const outcomes: RuleOutcome[] = [];
  const changed: EpisodeState[] = [];
  const asks: Ask[] = [];
  const clears: LazyAsk[] = [];
  const open: OpenEpisode[] = [];
  const { snapshot } = input;
  const ids = new Set(snapshot.ids);
  const liveStrategies = new Set(snapshot.ids.filter((_, i) => Math.abs(snapshot.weights[i]!) > EPS));

  for (const compiled of compileRuleSet(ruleSet)) {
    const { spec, mode } = compiled;
    if (rerun && !rerun.has(spec.id)) {
      for (const c of carriedOpenEpisodes(spec, snapshot, episodes)) {
        const muteOf = new RuleMutes(mutes, snapshot.world_id, c.rule.id, input.nowMs);
        const metrics = new SignalMetrics(c.rule, c.measurement, c.clear, c.target, c.utilization, undefined);
        const levels = { measure: c.measurement.value, limit: c.rule.limit };
        open.push({ rule: c.rule, mode, reason: compiled.reason, next: c.episode, levels, metrics, muteOf });
      }
      continue;
    }
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
    // Overrides change levels and actions, never the measured data: one data key per rule.
    const dataKeyOfRule = dataKey(baseRule, input);
    const muteOf = new RuleMutes(mutes, snapshot.world_id, baseRule.id, input.nowMs);
    for (const [rule, m] of measureWithOverrides(baseRule, input)) {
      const clear = rule.clear ?? rule.limit;
      const target = rule.target ?? rule.limit;
      const strategies = m.strategies.filter((s) => liveStrategies.has(s));
      const breached = m.value !== null && m.value > rule.limit;
      // A measure within its limit is never sized: its ratios are read only in breach (episode steps,
      // asks, the audit's proposal), and a joiner's ask only takes the rule's action from it.
      const sizing = breached ? sizeAction(rule, m, target, strategies, compiled.support) : quietSizing(rule);
      // No key string built (and hashed) for a world with no stored episodes: its first evaluation.
      const prev =
        (episodes.size === 0 ? undefined : episodes.get(episodeKey(rule.id, m.scopeKey))) ??
        idleEpisode(rule.id, m.scopeKey);
      let maxRatio = 0;
      for (const s in sizing.ratios) maxRatio = Math.max(maxRatio, sizing.ratios[s]!);
      const { next, verdict } = stepEpisode(prev, {
        value: m.value,
        limit: rule.limit,
        clear,
        persistence: compiled.persistence,
        dataKey: dataKeyOfRule,
        proposed: { action: sizing.action, ratio: maxRatio },
        minRatioStep: compiled.minRatioStep,
        repeatAfterMs: compiled.repeatAfterMs,
        lockoutMs: compiled.lockoutMs,
        cooldownMs: compiled.cooldownMs,
        nowMs: input.nowMs,
        now,
        asOf: snapshot.as_of,
      });
      const emits = verdict === 'fired' || verdict === 'escalated' || verdict === 'repeated';
      // Strategies a mute kept from the gateway and whose mute has ended while the breach goes on.
      const unmuted =
        verdict === 'active' && breached ? (prev.muted_strategies ?? []).filter((s) => !muteOf.of(s)) : [];
      // An episode that never told anyone anything stands by nothing: no map built for it.
      const before =
        prev.signalled_strategies === undefined && prev.standing_ratios === undefined
          ? NOTHING
          : standingRatios(prev);
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
      let toldNow: Record<string, number> = joined;
      if (emits) {
        toldNow = {};
        for (const s of strategies) if ((sizing.ratios[s] ?? 0) > EPS) toldNow[s] = sizing.ratios[s]!;
      }
      const told = Object.keys(toldNow);
      if (told.length > 0) {
        next.signalled_strategies = [...new Set([...(prev.signalled_strategies ?? []), ...told])].sort();
        const ratios = { ...before };
        for (const s of told) ratios[s] = toldNow[s]! >= 1 - EPS ? 1 : toldNow[s]!;
        next.standing_ratios = ratios;
        const muted = told.filter((s) => muteOf.of(s));
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
      const utilization = m.value === null || rule.limit === 0 ? null : m.value / rule.limit;
      // Optional fields set one by one, in the audit row's key order (evidence last): spreads of
      // optional parts into a literal give each row a fresh hidden class on Node 20.
      const outcome = {
        rule_id: rule.id,
        kind: rule.kind,
        mode,
        scope: rule.scope,
        scope_key: m.scopeKey,
        measure: m.value,
        limit: rule.limit,
        clear,
        target,
        utilization,
        verdict: unmuted.length > 0 ? 'unmuted' : told.length > 0 && !emits ? 'joined' : verdict,
      } as RuleOutcome;
      if (m.unavailable) outcome.unavailable = m.unavailable;
      if (breached) {
        const proposed: NonNullable<RuleOutcome['proposed']> = {
          action: sizing.action,
          ratio: maxRatio,
          sizing: sizing.method,
        };
        if (sizing.after !== undefined) proposed.after = sizing.after;
        outcome.proposed = proposed;
      }
      outcome.evidence = m.evidence;
      outcomes.push(outcome);

      // Nothing below is needed by a measurement that leaves its episode closed and asks nothing.
      if (
        next.status !== 'active' &&
        !emits &&
        unmuted.length === 0 &&
        told.length === 0 &&
        verdict !== 'cleared'
      )
        continue;
      const metrics = new SignalMetrics(rule, m, clear, target, utilization, breached ? sizing : undefined);
      const levels = { measure: m.value, limit: rule.limit };
      // What this episode has told each strategy and still stands by: read only if an episode clears.
      if (next.status === 'active')
        open.push({ rule, mode, reason: compiled.reason, next, levels, metrics, muteOf });
      const askFor = emits ? strategies : unmuted.length > 0 ? unmuted : Object.keys(joined);
      if (emits || unmuted.length > 0 || told.length > 0) {
        const askVerdict = emits ? verdict : unmuted.length > 0 ? 'unmuted' : 'joined';
        for (const s of askFor) {
          const ratio = emits || unmuted.length > 0 ? (sizing.ratios[s] ?? 0) : joined[s]!;
          if (ratio <= EPS) continue;
          const mute = muteOf.of(s);
          const action: SignalAction = ratio >= 1 - EPS ? 'exit' : sizing.action;
          asks.push(
            new LazyAsk(
              rule,
              mode,
              channelFor(mode, mute),
              s,
              action,
              action === 'exit' ? 1 : ratio,
              compiled.reason,
              rule.scope,
              levels,
              () => Object.assign(forStrategy(metrics.get(), s, ids), { verdict: askVerdict }),
              mute,
            ),
          );
        }
      } else if (verdict === 'cleared') {
        // Only strategies this episode told to cut hear that it is over (even if since exited).
        for (const s of prev.signalled_strategies ?? strategies) {
          const mute = muteOf.of(s);
          // In approval mode, only a cut ops approved moved the gateway: nothing else to undo.
          if (!mute && mode === 'approval' && !wasApproved(approvedCuts, rule.id, s, prev.opened_at))
            continue;
          clears.push(
            new LazyAsk(
              rule,
              mode,
              channelFor(mode, mute),
              s,
              'hold',
              0,
              'risk_episode_cleared',
              rule.scope,
              levels,
              () =>
                Object.assign(forStrategy(metrics.get(), s, ids), {
                  verdict,
                  episode_id: prev.episode_id,
                  episode_opened_at: prev.opened_at,
                }),
              mute,
              before[s] ?? prev.last_ratio ?? 0,
            ),
          );
        }
      }
    }
  }

  // A cleared episode says `hold` only to strategies no other open episode has told to cut. Where
  // one has, and the cleared episode's cut was stricter, the strategy is told the standing (most
  // restrictive remaining) action instead, so the gateway never stays at a level nobody asks for.
  const standing = clears.length > 0 ? standingAsks(open, ids) : undefined;
  for (const c of clears) {
    const others = standing
      ?.get(c.channel)
      ?.get(c.strategy_id)
      ?.filter((a) => a.rule.id !== c.rule.id);
    if (!others || others.length === 0) {
      asks.push(c);
      continue;
    }
    const strictest = Math.max(...others.map((a) => a.ratio));
    if ((c.told ?? 0) > strictest + EPS) {
      for (const a of others)
        asks.push(
          new LazyAsk(
            a.rule,
            a.mode,
            a.channel,
            a.strategy_id,
            a.action,
            a.ratio,
            a.reason,
            a.scope,
            a.levels,
            () =>
              Object.assign({}, a.metrics, {
                cleared_rule_id: c.rule.id,
                cleared_episode_id: c.metrics.episode_id,
              }),
            a.mute,
          ),
        );
    }
  }
  return { outcomes, episodes: changed, signals: mergeAsks(asks) };
}

/** The standing asks of every open episode, by channel and strategy (for the clears). */
function standingAsks(
  open: readonly OpenEpisode[],
  ids: ReadonlySet<string>,
): Map<Channel, Map<string, LazyAsk[]>> {
  const standing = new Map<Channel, Map<string, LazyAsk[]>>();
  for (const { rule, mode, reason, next, levels, metrics, muteOf } of open) {
    for (const [s, ratio] of Object.entries(standingRatios(next))) {
      if (ratio <= EPS) continue;
      const mute = muteOf.of(s);
      const channel = channelFor(mode, mute);
      const byStrategy = standing.get(channel) ?? new Map<string, LazyAsk[]>();
      standing.set(channel, byStrategy);
      const list = byStrategy.get(s) ?? [];
      byStrategy.set(s, list);
      list.push(
        new LazyAsk(
          rule,
          mode,
          channel,
          s,
          ratio >= 1 - EPS ? 'exit' : 'reduce',
          ratio >= 1 - EPS ? 1 : ratio,
          reason,
          rule.scope,
          levels,
          () =>
            Object.assign(forStrategy(metrics.get(), s, ids), {
              verdict: 'standing',
              episode_id: next.episode_id,
            }),
          mute,
        ),
      );
    }
  }
  return standing;
}
