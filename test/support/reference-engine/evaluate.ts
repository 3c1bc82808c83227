import type { SignalAction } from '#lib/contracts/exit-signal.js';
import { type EpisodeState, episodeKey, idleEpisode } from '#lib/engine/episodes.js';
import type { EvaluateArgs, EvaluationResult } from '#lib/engine/evaluate.js';
import { type Channel, channelFor } from '#lib/engine/merge-asks.js';
import { findMute, wasApproved } from '#lib/engine/mutes-and-cuts.js';
import { notApplicable, type RuleOutcome, unevaluable } from '#lib/engine/rule-outcomes.js';
import { loadAllRuleKinds } from '#lib/rules/kinds/index.js';
import { measureWithOverrides, whenApplies } from '#lib/rules/overrides.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import { durationMs, effectiveMode } from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';
import { dataKey, joinerRatio, sameEpisode, standingRatios, stepEpisode } from './episode-step.js';
import { type Ask, forStrategy, mergeAsks, sizeAction } from './sizing-and-merge.js';

// The reference measures every kind as the engine does, after the engine's `loadRuleKinds`.
await loadAllRuleKinds();

/**
 * The engine's evaluation as first written: every rule measured on its own (no evaluation-wide
 * cache), each step building its objects the plain way. The optimized `evaluateRuleSet` must give
 * exactly these outcomes, episodes and signals (test/unit/engine/evaluate-reference.test.ts).
 * Do not optimize this file.
 */

const EPS = 1e-12;

/** The reference evaluation of a rule set (same arguments and result as `evaluateRuleSet`). */
export function referenceEvaluateRuleSet({
  ruleSet,
  input: given,
  episodes,
  mutes,
  approvedCuts = [],
  now,
}: EvaluateArgs): EvaluationResult {
  // No evaluation-wide cache: each rule measures from scratch.
  const { shared: _, ...input }: RuleInput = given;
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
