import type { Rule } from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';
import type { EpisodeState } from './episodes.js';

/** What an episode step needs beyond the measure: the data it saw, what it has told, whether it changed. */

/**
 * The identity of the data a rule measures, for persistence: the hub snapshot (version and as_of);
 * for market rules also the market view they read; staleness measures time itself, so every
 * evaluation is new data for it.
 */
export function dataKey(rule: Rule, input: RuleInput): string {
  const snap = `${input.snapshot.version}@${input.snapshot.as_of}`;
  if (rule.kind === 'staleness') return `${snap}|t=${input.nowMs}`;
  if (rule.kind === 'volatility_regime' || rule.kind === 'liquidity') {
    return `${snap}|${rule.market_scope}@${input.market.get(rule.market_scope)?.as_of ?? 'none'}`;
  }
  return snap;
}

/** What an episode has told each strategy (1 = exit); for states stored before this was kept, its last action for all it told. */
export function standingRatios(e: EpisodeState): Record<string, number> {
  if (e.standing_ratios) return e.standing_ratios;
  const r = e.last_action === 'exit' ? 1 : (e.last_ratio ?? 0);
  return Object.fromEntries((e.signalled_strategies ?? []).map((s) => [s, r]));
}

/**
 * The standing action of an open world-wide episode for a strategy it has not told yet: an exit or a
 * fixed cut as the rule says; a uniform reduce at the episode's last ratio; a contribution reduce at
 * the strategy's share of the current cut (nothing while the measure is back within the limit).
 */
export function joinerRatio(rule: Rule, prev: EpisodeState, current: number, breached: boolean): number {
  if (prev.last_action === 'exit' || rule.action.type === 'exit') return 1;
  if (rule.action.type === 'reduce_fixed') return rule.action.ratio;
  if (rule.action.sizing === 'contribution') return breached ? current : 0;
  return prev.last_ratio ?? 0;
}

export function sameEpisode(a: EpisodeState, b: EpisodeState): boolean {
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
