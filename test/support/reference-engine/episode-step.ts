import { ACTION_RANK, type EpisodeState, type EpisodeStepInput, type Verdict } from '#lib/engine/episodes.js';
import type { Rule } from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';

// The episode step and its helpers as first written (object spreads, JSON comparison), kept as the
// reference the optimized engine is checked against. Do not optimize this file.

/** Advances one episode by one evaluation: hysteresis, persistence, escalation and repeat. */
export function stepEpisode(
  prev: EpisodeState,
  input: EpisodeStepInput,
): { next: EpisodeState; verdict: Verdict } {
  const { value } = input;
  const base = { ...prev, last_as_of: input.asOf };
  if (value === null) return { next: base, verdict: 'unavailable' };
  base.last_value = value;

  if (prev.status === 'active') {
    if (value <= input.clear) {
      // Lock-out and cooldown run on the snapshots' as_of timeline (never the clock): the episode
      // stays open, its cut standing, until the first evaluation at or after both have passed.
      const asOfMs = Date.parse(input.asOf);
      const clearSince = prev.clear_since ?? input.asOf;
      const lockedUntil =
        input.lockoutMs && prev.opened_as_of
          ? Date.parse(prev.opened_as_of) + input.lockoutMs
          : Number.NEGATIVE_INFINITY;
      const coolUntil = input.cooldownMs
        ? Date.parse(clearSince) + input.cooldownMs
        : Number.NEGATIVE_INFINITY;
      if (asOfMs < lockedUntil || asOfMs < coolUntil) {
        return {
          next: { ...base, clear_since: clearSince },
          verdict: asOfMs < lockedUntil ? 'locked_out' : 'cooling_down',
        };
      }
      return {
        next: {
          rule_id: prev.rule_id,
          scope_key: prev.scope_key,
          status: 'idle',
          breach_count: 0,
          last_value: value,
          last_as_of: input.asOf,
          version: prev.version,
        },
        verdict: 'cleared',
      };
    }
    delete base.clear_since;
    const stricter = ACTION_RANK[input.proposed.action] > ACTION_RANK[prev.last_action ?? 'hold'];
    const deeper =
      input.proposed.action === prev.last_action &&
      input.proposed.ratio >= (prev.last_ratio ?? 0) + input.minRatioStep - 1e-12;
    const emitted = {
      ...base,
      last_action: input.proposed.action,
      last_ratio: input.proposed.ratio,
      last_emitted_at: input.now,
    };
    if (value > input.limit && (stricter || deeper)) return { next: emitted, verdict: 'escalated' };
    const lastMs = prev.last_emitted_at ? Date.parse(prev.last_emitted_at) : Number.NEGATIVE_INFINITY;
    if (
      value > input.limit &&
      input.repeatAfterMs !== undefined &&
      input.nowMs - lastMs >= input.repeatAfterMs
    ) {
      return { next: emitted, verdict: 'repeated' };
    }
    return { next: base, verdict: 'active' };
  }

  if (value > input.limit) {
    const fresh = prev.breach_count === 0 || prev.last_data_key !== input.dataKey;
    const count = fresh ? prev.breach_count + 1 : prev.breach_count;
    const since = prev.breach_count > 0 && prev.breach_since ? prev.breach_since : input.now;
    const due =
      typeof input.persistence === 'number'
        ? count >= input.persistence
        : input.nowMs - Date.parse(since) >= input.persistence.forMs;
    if (due) {
      const { breach_since: _, ...rest } = base;
      return {
        next: {
          ...rest,
          last_data_key: input.dataKey,
          status: 'active',
          breach_count: count,
          episode_id: `${prev.rule_id}:${prev.scope_key}:${input.asOf}`,
          opened_at: input.now,
          opened_as_of: input.asOf,
          last_action: input.proposed.action,
          last_ratio: input.proposed.ratio,
          last_emitted_at: input.now,
        },
        verdict: 'fired',
      };
    }
    return {
      next: {
        ...base,
        last_data_key: input.dataKey,
        status: 'pending',
        breach_count: count,
        breach_since: since,
      },
      verdict: 'breach_pending',
    };
  }
  const { breach_since: _, ...rest } = base;
  return { next: { ...rest, status: 'idle', breach_count: 0 }, verdict: 'ok' };
}
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
