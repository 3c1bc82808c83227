import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { MARKET_SNAPSHOT_DETAIL_TYPE } from '#lib/contracts/market-snapshot.js';
import type { Outcome } from '#lib/engine/engine.js';
import type { RuleOutcome } from '#lib/engine/evaluate.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import type { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { formatTable } from '../commands/evaluate.js';
import { formatRuleValue, measureName } from '../rules/explain-rule.js';
import type { AppliedOps } from './ops-replay.js';
import { type ReplayedLine, type ReplaySink, SNAPSHOT_TYPE } from './runner.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return `${d}d ${String(h).padStart(2, '0')}h${String(m).padStart(2, '0')}m`;
}

/** A risk episode of one rule on one scope unit: opened by `fired`, closed by `cleared`. */
export interface Episode {
  world: string;
  rule: string;
  scope: string;
  mode: string;
  openedAt: string;
  closedAt?: string;
  spanMs: number;
}

/**
 * The as_of of the data an evaluation record evaluated: the snapshot's, or the market data's when
 * a market event re-evaluated an older snapshot (else a market-triggered episode would last no time).
 */
export function evaluatedAsOf(record: AuditRecord): string {
  let asOf = String((record.inputs as { as_of?: string } | undefined)?.as_of ?? '');
  const marketAsOf = (record.provenance as { market_as_of?: Record<string, unknown> } | undefined)
    ?.market_as_of;
  for (const t of Object.values(marketAsOf ?? {})) {
    if (typeof t === 'string' && Date.parse(t) > Date.parse(asOf)) asOf = t;
  }
  return asOf;
}

/** Follows episodes through evaluation records as they arrive. */
export class EpisodeTracker {
  readonly all: Episode[] = [];
  private readonly open = new Map<string, Episode>();
  private readonly lastAsOf = new Map<string, string>();

  add(record: AuditRecord): void {
    if (record.kind !== 'evaluation') return;
    const asOf = evaluatedAsOf(record);
    const asOfMs = Date.parse(asOf);
    if (!Number.isFinite(asOfMs)) return;
    const seen = this.lastAsOf.get(record.world_id);
    if (seen === undefined || Date.parse(seen) < asOfMs) this.lastAsOf.set(record.world_id, asOf);
    for (const o of (record.rules ?? []) as RuleOutcome[]) {
      const k = `${record.world_id}\u0000${o.rule_id}\u0000${o.scope_key}`;
      if (o.verdict === 'fired') {
        const episode = {
          world: record.world_id,
          rule: o.rule_id,
          scope: o.scope_key,
          mode: o.mode,
          openedAt: asOf,
          spanMs: 0,
        };
        this.open.set(k, episode);
        this.all.push(episode);
      } else if (o.verdict === 'cleared') {
        const episode = this.open.get(k);
        if (!episode) continue;
        episode.closedAt = asOf;
        episode.spanMs = asOfMs - Date.parse(episode.openedAt);
        this.open.delete(k);
      }
    }
  }

  /** Still open at the end: in breach up to the last data the world was evaluated on. */
  finish(): Episode[] {
    for (const episode of this.open.values()) {
      const last = this.lastAsOf.get(episode.world) ?? episode.openedAt;
      episode.spanMs = Date.parse(last) - Date.parse(episode.openedAt);
    }
    return this.all;
  }

  /** The as_of of the last evaluation of a world. */
  lastOf(world: string): string | undefined {
    return this.lastAsOf.get(world);
  }
}

const OUTCOME_ORDER: Outcome['outcome'][] = [
  'published',
  'stored_only',
  'no_signal',
  'duplicate',
  'completed_on_retry',
  'out_of_order',
  'superseded',
  'expired',
  'rejected',
  'no_ruleset',
];

type Counts = Record<string, number>;
const bump = (map: Map<string, Counts>, k: string, what: string) => {
  const c = map.get(k) ?? {};
  c[what] = (c[what] ?? 0) + 1;
  map.set(k, c);
};

/**
 * The replay's text report, built as the replay runs: what happened, then every signal it would
 * have published. Keeps counts and the notable lines, never the events themselves.
 */
export class ReplaySummary implements ReplaySink {
  readonly episodes = new EpisodeTracker();
  private readonly types = new Map<ReplayedLine['type'], number>();
  private readonly outcomes = new Map<string, number>();
  private exitEvents = 0;
  private signalCount = 0;
  private readonly perRule = new Map<string, Counts>();
  private readonly held = new Map<string, Counts>();
  private readonly rejections: string[] = [];
  private readonly duplicates: string[] = [];
  private readonly outOfOrder: string[] = [];
  private readonly expired: string[] = [];
  private readonly failed: string[] = [];
  private readonly signalRows: string[][] = [];
  /** The `--ops` actions, as applied. */
  private readonly opsApplied: AppliedOps[] = [];

  constructor(private readonly ruleSets: RuleSetRegistry) {}

  /** Lines read (not counting blank and comment lines), and how many were rejected. */
  get total(): number {
    let n = 0;
    for (const v of this.types.values()) n += v;
    return n;
  }

  get invalid(): number {
    return this.types.get('invalid') ?? 0;
  }

  /** Engine failures, and ops actions the service refused. */
  get errors(): number {
    return this.failed.length + this.opsApplied.filter((a) => a.error !== undefined).length;
  }

  ops(applied: AppliedOps): void {
    this.opsApplied.push(applied);
  }

  private opsLines(): string[] {
    if (this.opsApplied.length === 0) return [];
    const refused = this.opsApplied.filter((a) => a.error !== undefined).length;
    return [
      '',
      `ops actions applied: ${this.opsApplied.length}${refused ? ` (${refused} refused)` : ''}`,
      ...this.opsApplied.map(
        (a) =>
          `  ops line ${a.line}  ${a.at}  ${a.action} ${a.world} by ${a.actor}: ${
            a.error !== undefined ? `REFUSED: ${a.error}` : a.results.join('; ') || 'nothing to do'
          }`,
      ),
    ];
  }

  line(l: ReplayedLine): void {
    this.types.set(l.type, (this.types.get(l.type) ?? 0) + 1);
    if (l.market === 'older')
      this.outOfOrder.push(
        `  line ${l.line}: market scope ${l.subject}: older than the stored data; recorded and ignored`,
      );
    for (const o of l.outcomes) {
      this.outcomes.set(o.outcome, (this.outcomes.get(o.outcome) ?? 0) + 1);
      const at = `  line ${l.line}: ${o.world_id}: `;
      if (o.outcome === 'rejected') this.rejections.push(`${at}${o.reasons.join('; ')}`);
      else if (o.outcome === 'no_ruleset')
        this.rejections.push(`${at}no rule set for this world and no default rule set`);
      else if (o.outcome === 'duplicate') this.duplicates.push(`${at}already evaluated; no second signal`);
      else if (o.outcome === 'out_of_order')
        this.outOfOrder.push(
          `${at}older than the latest snapshot (as_of ${o.latest_as_of}); recorded and ignored`,
        );
      else if (o.outcome === 'superseded')
        this.outOfOrder.push(`${at}a newer snapshot arrived during evaluation`);
      else if (o.outcome === 'expired') this.expired.push(`${at}expired at ${o.expired_at}`);
    }
    if (l.error !== undefined) this.failed.push(`  line ${l.line}: ${l.error}`);
  }

  audit(record: AuditRecord): void {
    this.episodes.add(record);
    if (record.kind !== 'evaluation') return;
    for (const d of (record.decisions ?? []) as { status: string; rule_ids: string[] }[]) {
      if (d.status === 'published' || d.status === 'pending_publish') continue;
      for (const rule of d.rule_ids) bump(this.held, `${record.world_id}\u0000${rule}`, d.status);
    }
  }

  published(event: EngineEvent, line: number): void {
    if (event.type !== 'exit_signal_emitted') return;
    this.exitEvents += 1;
    const d = event.data;
    this.signalCount += d.signals.length;
    const ruleSet = this.ruleSets.forWorld(d.world_id);
    for (const s of d.signals) {
      for (const tag of s.tags ?? [])
        if (tag.startsWith('rule:')) bump(this.perRule, `${d.world_id}\u0000${tag.slice(5)}`, s.action);
      const m = (s.metrics ?? {}) as Record<string, unknown>;
      const ruleId = String(m.rule_id);
      const rule = ruleSet?.rules.find((r) => r.id === ruleId);
      const fmt = (v: unknown) =>
        typeof v === 'number'
          ? formatRuleValue(String(m.kind), rule ? measureName(rule) : undefined, v)
          : 'n/a';
      const why =
        s.action === 'hold'
          ? `${ruleId}: ${fmt(m.measure)} <= clear ${fmt(m.clear)}, episode over`
          : `${ruleId}: ${fmt(m.measure)} > limit ${fmt(m.limit)}${
              s.action === 'reduce' && typeof m.measure_after === 'number'
                ? ` -> ${fmt(m.measure_after)}`
                : ''
            }`;
      const others = (s.tags ?? [])
        .filter((t) => t.startsWith('rule:') && t !== `rule:${ruleId}`)
        .map((t) => t.slice('rule:'.length));
      this.signalRows.push([
        `  line ${line}`,
        d.as_of,
        d.world_id,
        s.action.toUpperCase(),
        s.strategy_id,
        s.action === 'reduce' ? `by ${pct(s.reduction_ratio ?? 0)}` : '',
        String(s.reason),
        `${why}${others.length > 0 ? ` (also ${others.join(', ')})` : ''}`,
      ]);
    }
  }

  /** The report: counts, signals per rule, episodes, time in breach, anomalies, then every signal. */
  describe(): string[] {
    const out: string[] = [];
    const byType = (t: ReplayedLine['type']) => this.types.get(t) ?? 0;
    out.push(
      `events: ${this.total} (${SNAPSHOT_TYPE} ${byType(SNAPSHOT_TYPE)}, ${MARKET_SNAPSHOT_DETAIL_TYPE} ${byType(
        MARKET_SNAPSHOT_DETAIL_TYPE,
      )}, invalid ${byType('invalid')})`,
    );
    out.push(
      `outcomes: ${
        OUTCOME_ORDER.filter((o) => this.outcomes.has(o))
          .map((o) => `${o} ${this.outcomes.get(o)}`)
          .join(', ') || 'none'
      }`,
    );
    out.push(`published: ${this.exitEvents} exit_signal_emitted events with ${this.signalCount} signals`);

    out.push('', 'signals per rule and world (published; a merged signal counts for each of its rules):');
    const ruleRows = [...this.perRule].sort(([a], [b]) => (a < b ? -1 : 1));
    if (ruleRows.length === 0) out.push('  none');
    out.push(
      ...formatTable(
        ruleRows.map(([k, c]) => [
          `  ${k.replace('\u0000', '  ')}`,
          (['exit', 'reduce', 'hold'] as const).map((a) => `${a} ${c[a] ?? 0}`).join(', '),
        ]),
      ),
    );
    if (this.held.size > 0) {
      out.push('', 'signals held back (stored, not published):');
      out.push(
        ...formatTable(
          [...this.held]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, c]) => [
              `  ${k.replace('\u0000', '  ')}`,
              Object.entries(c)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([status, n]) => `${status} ${n}`)
                .join(', '),
            ]),
        ),
      );
    }

    const episodes = this.episodes.finish();
    out.push('', `episodes: ${episodes.length} opened, ${episodes.filter((e) => e.closedAt).length} closed`);
    out.push(
      ...formatTable(
        episodes.map((e) => [
          `  ${e.world}`,
          e.rule,
          e.scope,
          e.mode,
          `opened ${e.openedAt}`,
          e.closedAt ? `closed ${e.closedAt}` : 'still open',
          duration(e.spanMs),
        ]),
      ),
    );
    out.push(
      '',
      'time in breach per rule (as_of span of its episodes, by the as_of of the data evaluated; open ones up to the last evaluation):',
    );
    const breach = new Map<string, { ms: number; n: number }>();
    for (const e of episodes) {
      const k = `${e.world}\u0000${e.rule}`;
      const b = breach.get(k) ?? { ms: 0, n: 0 };
      b.ms += e.spanMs;
      b.n += 1;
      breach.set(k, b);
    }
    if (breach.size === 0) out.push('  none');
    out.push(
      ...formatTable(
        [...breach]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, b]) => [
            `  ${k.replace('\u0000', '  ')}`,
            duration(b.ms),
            `(${b.n} episode${b.n === 1 ? '' : 's'})`,
          ]),
      ),
    );
    out.push('', `rejections: ${this.rejections.length}`, ...this.rejections);
    out.push('', `duplicates: ${this.duplicates.length}`, ...this.duplicates);
    out.push('', `out of order: ${this.outOfOrder.length}`, ...this.outOfOrder);
    if (this.expired.length > 0)
      out.push('', `expired (recorded, not evaluated): ${this.expired.length}`, ...this.expired);
    if (this.failed.length > 0)
      out.push(
        '',
        `engine errors (Lambda would retry these deliveries): ${this.failed.length}`,
        ...this.failed,
      );
    out.push(...this.opsLines());
    out.push('', `signals it would have published: ${this.signalRows.length}`);
    out.push(...formatTable(this.signalRows));
    return out;
  }

  /** The same facts for `--json`. */
  toJSON(): Record<string, unknown> {
    const episodes = this.episodes.finish();
    return {
      events: {
        total: this.total,
        [SNAPSHOT_TYPE]: this.types.get(SNAPSHOT_TYPE) ?? 0,
        [MARKET_SNAPSHOT_DETAIL_TYPE]: this.types.get(MARKET_SNAPSHOT_DETAIL_TYPE) ?? 0,
        invalid: this.invalid,
      },
      outcomes: Object.fromEntries(
        OUTCOME_ORDER.filter((o) => this.outcomes.has(o)).map((o) => [o, this.outcomes.get(o)]),
      ),
      published: { events: this.exitEvents, signals: this.signalCount },
      signals_per_rule: [...this.perRule].map(([k, c]) => {
        const [world, rule] = k.split('\u0000');
        return { world_id: world, rule_id: rule, ...c };
      }),
      held_back: [...this.held].map(([k, c]) => {
        const [world, rule] = k.split('\u0000');
        return { world_id: world, rule_id: rule, ...c };
      }),
      episodes: episodes.map((e) => ({
        world_id: e.world,
        rule_id: e.rule,
        scope: e.scope,
        mode: e.mode,
        opened_at: e.openedAt,
        closed_at: e.closedAt ?? null,
        span_ms: e.spanMs,
      })),
      rejections: this.rejections.map((s) => s.trim()),
      duplicates: this.duplicates.map((s) => s.trim()),
      out_of_order: this.outOfOrder.map((s) => s.trim()),
      expired: this.expired.map((s) => s.trim()),
      engine_errors: this.failed.map((s) => s.trim()),
      ops_actions: this.opsApplied,
      signals: this.signalRows.map(([line, asOf, world, action, strategy, size, reason, why]) => ({
        line: Number(line!.trim().slice(5)),
        as_of: asOf,
        world_id: world,
        action: action!.toLowerCase(),
        strategy_id: strategy,
        size,
        reason,
        why,
      })),
    };
  }
}
