import type { SignalAction } from '#lib/contracts/exit-signal.js';

/**
 * Anti-flapping state per (world, rule, scope unit): one risk episode, one signal. Pure functions;
 * the store persists the result with optimistic concurrency on `version`.
 */
export interface EpisodeState {
  rule_id: string;
  scope_key: string;
  /** idle: no breach; pending: breaching but not yet for `persistence` evaluations; active: fired. */
  status: 'idle' | 'pending' | 'active';
  breach_count: number;
  episode_id?: string;
  opened_at?: string;
  last_action?: SignalAction;
  last_ratio?: number;
  last_emitted_at?: string;
  last_value?: number;
  /**
   * Strategies whose last emission went to a mute instead of the gateway: once the mute ends and
   * the breach is still on, they are told (verdict `unmuted`), so a mute never hides a live breach.
   */
  muted_strategies?: string[];
  /** Every strategy this episode has sent a signal for: the ones told `hold` when it clears. */
  signalled_strategies?: string[];
  /** The ratio (1 = exit) this episode last told each strategy: its standing action, per strategy. */
  standing_ratios?: Record<string, number>;
  /** World scope: the strategies held when the episode last evaluated; one not among them has just joined. */
  covered_strategies?: string[];
  /** The as_of of the snapshot last evaluated: an older one must never move the state. */
  last_as_of?: string;
  /** Identity of the data the last counted breach was measured on: a re-evaluation of it never counts again. */
  last_data_key?: string;
  /** The as_of of the snapshot the episode fired on: a `lockout` runs from it. */
  opened_as_of?: string;
  /**
   * The as_of from which the measure has stayed at or below its clear level while a `lockout` or
   * `cooldown` keeps the episode open; gone as soon as the measure rises above the clear level again.
   */
  clear_since?: string;
  /** When the current run of breaches began (for `persistence: {for: …}`). */
  breach_since?: string;
  /** Optimistic-concurrency counter; 0 for a state never stored. */
  version: number;
}

/** What one evaluation did to an episode. */
export type Verdict =
  | 'ok'
  | 'breach_pending'
  | 'fired'
  | 'escalated'
  | 'repeated'
  | 'unmuted'
  | 'joined'
  | 'not_applicable'
  | 'active'
  | 'locked_out'
  | 'cooling_down'
  | 'cleared'
  | 'unavailable';

export const ACTION_RANK: Record<SignalAction, number> = { hold: 0, reduce: 1, exit: 2 };

export function episodeKey(ruleId: string, scopeKey: string): string {
  return `${ruleId}#${scopeKey}`;
}

export function idleEpisode(ruleId: string, scopeKey: string): EpisodeState {
  return { rule_id: ruleId, scope_key: scopeKey, status: 'idle', breach_count: 0, version: 0 };
}

export interface EpisodeStepInput {
  value: number | null;
  limit: number;
  clear: number;
  /** Breaches on distinct data before firing, or how long the breach must have lasted. */
  persistence: number | { forMs: number };
  /**
   * Identity of the data this measure was taken on (the snapshot, plus the market view for market
   * rules): a breach counts towards persistence only on data not counted before.
   */
  dataKey: string;
  /** The action (and its largest ratio) the rule would ask for now. */
  proposed: { action: SignalAction; ratio: number };
  minRatioStep: number;
  repeatAfterMs: number | undefined;
  /** A cut stands at least this long after the snapshot it fired on (snapshot as_of time). */
  lockoutMs?: number;
  /** The hold waits this long after the measure first cleared (snapshot as_of time). */
  cooldownMs?: number;
  nowMs: number;
  now: string;
  asOf: string;
}

/**
 * Advances one episode by one evaluation: hysteresis, persistence, escalation and repeat. It runs
 * once per rule and scope unit of every evaluation, so each next state is one copy of the previous
 * with its changes: `Object.assign({}, prev, changes)`, not `{...prev, field: …}`, which on Node 20
 * builds a fresh hidden class per object (microseconds each, and garbage for the collector).
 */
export function stepEpisode(
  prev: EpisodeState,
  input: EpisodeStepInput,
): { next: EpisodeState; verdict: Verdict } {
  const { value, asOf } = input;
  if (value === null) return { next: Object.assign({}, prev, { last_as_of: asOf }), verdict: 'unavailable' };

  if (prev.status === 'active') {
    if (value <= input.clear) {
      // Lock-out and cooldown run on the snapshots' as_of timeline (never the clock): the episode
      // stays open, its cut standing, until the first evaluation at or after both have passed.
      const asOfMs = Date.parse(asOf);
      const clearSince = prev.clear_since ?? asOf;
      const lockedUntil =
        input.lockoutMs && prev.opened_as_of
          ? Date.parse(prev.opened_as_of) + input.lockoutMs
          : Number.NEGATIVE_INFINITY;
      const coolUntil = input.cooldownMs
        ? Date.parse(clearSince) + input.cooldownMs
        : Number.NEGATIVE_INFINITY;
      if (asOfMs < lockedUntil || asOfMs < coolUntil) {
        return {
          next: Object.assign({}, prev, { last_as_of: asOf, last_value: value, clear_since: clearSince }),
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
          last_as_of: asOf,
          version: prev.version,
        },
        verdict: 'cleared',
      };
    }
    const base = 'clear_since' in prev ? without(prev, 'clear_since') : prev;
    const stricter = ACTION_RANK[input.proposed.action] > ACTION_RANK[prev.last_action ?? 'hold'];
    const deeper =
      input.proposed.action === prev.last_action &&
      input.proposed.ratio >= (prev.last_ratio ?? 0) + input.minRatioStep - 1e-12;
    const emit = (verdict: Verdict) => ({
      next: Object.assign({}, base, {
        last_as_of: asOf,
        last_value: value,
        last_action: input.proposed.action,
        last_ratio: input.proposed.ratio,
        last_emitted_at: input.now,
      }),
      verdict,
    });
    if (value > input.limit && (stricter || deeper)) return emit('escalated');
    const lastMs = prev.last_emitted_at ? Date.parse(prev.last_emitted_at) : Number.NEGATIVE_INFINITY;
    if (
      value > input.limit &&
      input.repeatAfterMs !== undefined &&
      input.nowMs - lastMs >= input.repeatAfterMs
    ) {
      return emit('repeated');
    }
    return { next: Object.assign({}, base, { last_as_of: asOf, last_value: value }), verdict: 'active' };
  }

  // Not active: any run of breaches is either going on (kept) or over (dropped).
  const rest = 'breach_since' in prev ? without(prev, 'breach_since') : prev;
  if (value > input.limit) {
    const fresh = prev.breach_count === 0 || prev.last_data_key !== input.dataKey;
    const count = fresh ? prev.breach_count + 1 : prev.breach_count;
    const since = prev.breach_count > 0 && prev.breach_since ? prev.breach_since : input.now;
    const due =
      typeof input.persistence === 'number'
        ? count >= input.persistence
        : input.nowMs - Date.parse(since) >= input.persistence.forMs;
    if (due) {
      return {
        next: Object.assign({}, rest, {
          last_as_of: asOf,
          last_value: value,
          last_data_key: input.dataKey,
          status: 'active',
          breach_count: count,
          episode_id: `${prev.rule_id}:${prev.scope_key}:${asOf}`,
          opened_at: input.now,
          opened_as_of: asOf,
          last_action: input.proposed.action,
          last_ratio: input.proposed.ratio,
          last_emitted_at: input.now,
        }),
        verdict: 'fired',
      };
    }
    return {
      next: Object.assign({}, prev, {
        last_as_of: asOf,
        last_value: value,
        last_data_key: input.dataKey,
        status: 'pending' as const,
        breach_count: count,
        breach_since: since,
      }),
      verdict: 'breach_pending',
    };
  }
  return {
    next: Object.assign({}, rest, {
      last_as_of: asOf,
      last_value: value,
      status: 'idle' as const,
      breach_count: 0,
    }),
    verdict: 'ok',
  };
}

/** A copy of the state without one field (the rare path: most states never carry it). */
function without(state: EpisodeState, field: 'clear_since' | 'breach_since'): EpisodeState {
  const copy = Object.assign({}, state);
  delete copy[field];
  return copy;
}
