import { WORLD } from '#lib/rules/kinds/shared.js';
import { ruleFor, whenApplies } from '#lib/rules/overrides.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import type { Rule, RuleSpec } from '#lib/rules/rule-schema.js';
import type { PreparedSnapshot, RuleMeasurement } from '#lib/rules/types.js';
import type { EpisodeState } from './episodes.js';

/**
 * The open episodes of rules a later evaluation carries instead of re-running (snapshot-reuse.ts).
 * Such a rule would measure the same value on the same snapshot and step its episode to the same
 * verdict, so its episode is left exactly as the hub evaluation left it: not stepped, not written,
 * asking nothing. One thing of it is still read: when a re-run rule's episode clears, a strategy an
 * open carried episode has told to cut hears that episode's standing action instead of `hold`. Its
 * standing ratios come from the episode state, as a full evaluation's would; its measure is the one
 * last stored on the episode, and its evidence says so (`standing_from`), since the data it was
 * measured on may not be kept (evaluate.ts builds the asks).
 */
export interface CarriedOpen {
  rule: Rule;
  episode: EpisodeState;
  clear: number;
  target: number;
  utilization: number | null;
  /** A stand-in for the measurement a full evaluation would take: the episode's last stored value. */
  measurement: RuleMeasurement;
}

/**
 * The open episodes of one carried rule that a full evaluation of this snapshot would leave open, in
 * the order it would measure them (the world, or the snapshot's strategies in id order).
 */
export function carriedOpenEpisodes(
  spec: RuleSpec,
  snapshot: PreparedSnapshot,
  episodes: ReadonlyMap<string, EpisodeState>,
): CarriedOpen[] {
  if (episodes.size === 0 || !whenApplies(spec, snapshot)) return [];
  const resolved = resolveLevels(spec, snapshot.constraints);
  // Levels it cannot resolve on this snapshot: a full evaluation records it unevaluable, steps nothing.
  if ('unavailable' in resolved) return [];
  const order = new Map(snapshot.ids.map((id, i) => [id, i]));
  const open: EpisodeState[] = [];
  for (const episode of episodes.values()) {
    if (episode.rule_id !== spec.id || episode.status !== 'active') continue;
    const measured = spec.scope === 'world' ? episode.scope_key === WORLD : order.has(episode.scope_key);
    if (measured) open.push(episode);
  }
  open.sort((a, b) => (order.get(a.scope_key) ?? -1) - (order.get(b.scope_key) ?? -1));
  return open.map((episode) => {
    const rule = ruleFor(resolved.rule, episode.scope_key);
    const value = episode.last_value ?? null;
    return {
      rule,
      episode,
      clear: rule.clear ?? rule.limit,
      target: rule.target ?? rule.limit,
      utilization: value === null || rule.limit === 0 ? null : value / rule.limit,
      measurement: {
        scopeKey: episode.scope_key,
        value,
        strategies: [],
        evidence: {
          standing_from: 'episode_state',
          ...(episode.last_as_of ? { measured_as_of: episode.last_as_of } : {}),
        },
      },
    };
  });
}
