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

/** Whether an evaluation left the episode's stored state as it was (then it is not written). */
export function sameEpisode(a: EpisodeState, b: EpisodeState): boolean {
  return (
    a.status === b.status &&
    a.breach_count === b.breach_count &&
    a.last_action === b.last_action &&
    a.last_ratio === b.last_ratio &&
    a.last_emitted_at === b.last_emitted_at &&
    a.episode_id === b.episode_id &&
    a.clear_since === b.clear_since &&
    sameList(a.muted_strategies, b.muted_strategies) &&
    sameList(a.signalled_strategies, b.signalled_strategies) &&
    sameRatios(a.standing_ratios, b.standing_ratios) &&
    sameList(a.covered_strategies, b.covered_strategies)
  );
}

/** Lists compared as their comma-joined text (absent = empty), as they are stored. */
function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  return (a ?? []).join() === (b ?? []).join();
}

/**
 * Ratio maps compared as their JSON text would be (absent = `{}`), without building it: the same
 * keys in the same order, and values that serialize alike (every non-finite number is `null`).
 */
function sameRatios(a: Record<string, number> | undefined, b: Record<string, number> | undefined): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const key = ka[i]!;
    if (key !== kb[i]) return false;
    const x = a![key];
    const y = b![key];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isFinite(x) || Number.isFinite(y)) return false;
    } else if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}
