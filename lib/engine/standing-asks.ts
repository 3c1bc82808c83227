import type { SignalAction } from '#lib/contracts/exit-signal.js';
import type { Rule, RuleMode } from '#lib/rules/rule-schema.js';
import type { RuleMeasurement } from '#lib/rules/types.js';
import { standingRatios } from './episode-standing.js';
import type { EpisodeState } from './episodes.js';
import { type Ask, type Channel, channelFor } from './merge-asks.js';
import { findMute, type Mute } from './mutes-and-cuts.js';
import { forStrategy } from './rule-outcomes.js';
import type { Sizing } from './size-action.js';

/**
 * The asks an evaluation makes of the gateway, built lazily, and how a cleared episode is answered
 * when other episodes still stand: evaluate.ts measures and steps, this decides what a clear says.
 */

/** Ratios at or below this ask nothing; at or above 1 − EPS they are an exit. */
export const EPS = 1e-12;

/** An episode left open by this evaluation: what it stands by, kept until a clear needs to know. */
export interface OpenEpisode {
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
export class LazyAsk implements Ask {
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
export class SignalMetrics {
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
export class RuleMutes {
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

/**
 * Answers the clears of an evaluation (appending to `asks`): a cleared episode says `hold` only to
 * strategies no other open episode has told to cut. Where one has, and the cleared episode's cut was
 * stricter, the strategy is told the standing (most restrictive remaining) action instead, so the
 * gateway never stays at a level nobody asks for.
 */
export function answerClears(
  clears: readonly LazyAsk[],
  open: readonly OpenEpisode[],
  ids: ReadonlySet<string>,
  asks: Ask[],
): void {
  const standing = standingAsks(open, ids);
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
