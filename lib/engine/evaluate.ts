import type { SignalAction } from '#lib/contracts/exit-signal.js';
import { evaluationMeasures } from '#lib/rules/kinds/index.js';
import { measureWithOverrides, whenApplies } from '#lib/rules/overrides.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import type { Rule, RuleSet } from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';
import { carriedOpenEpisodes } from './carried-episodes.js';
import { compileRuleSet } from './compiled-rules.js';
import { dataKey, joinerRatio, sameEpisode, standingRatios } from './episode-standing.js';
import { type EpisodeState, episodeKey, idleEpisode, stepEpisode } from './episodes.js';
import { type Ask, channelFor, type DecidedSignal, mergeAsks } from './merge-asks.js';
import { type ApprovedCut, type Mute, wasApproved } from './mutes-and-cuts.js';
import { forStrategy, notApplicable, type RuleOutcome, unevaluable } from './rule-outcomes.js';
import { type Sizing, sizeAction } from './size-action.js';
import { answerClears, EPS, LazyAsk, type OpenEpisode, RuleMutes, SignalMetrics } from './standing-asks.js';

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

/** The standing ratios of an episode that has told no strategy anything (never written to). */
const NOTHING: Readonly<Record<string, number>> = Object.freeze({});

const QUIET_EXIT: Sizing = Object.freeze({ action: 'exit', method: 'exit', ratios: NOTHING });
const QUIET_REDUCE: Sizing = Object.freeze({ action: 'reduce', method: 'none', ratios: NOTHING });

/** What a measure within its limit stands by: the rule's action (`sizeAction`'s for it), no ratios. */
function quietSizing(rule: Rule): Sizing {
  return rule.action.type === 'exit' ? QUIET_EXIT : QUIET_REDUCE;
}

/**
 * Evaluates a rule set against one prepared snapshot and the current episode states. Its kinds must be
 * loaded (`loadRuleKinds`); a kind that is not throws `RuleKindNotLoadedError`.
 */
export function evaluateRuleSet({
  ruleSet,
  input: given,
  episodes,
  mutes,
  approvedCuts = [],
  now,
  rerun,
}: EvaluateArgs): EvaluationResult {
  // Rules measuring the same series share the work, within this evaluation only (none reads them
  // before the on-demand kinds are loaded: the built-in kinds measure no series).
  const input: RuleInput = Object.assign({}, given, { shared: evaluationMeasures(given.snapshot) });
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

  // A cleared episode's `hold`, or the standing action where another open episode still cuts.
  if (clears.length > 0) answerClears(clears, open, ids, asks);
  return { outcomes, episodes: changed, signals: mergeAsks(asks) };
}
