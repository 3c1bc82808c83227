import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { InMemoryPublisher } from '../../adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '../../adapters/memory/memory-store.js';
import { UriRefResolver } from '../../adapters/refs/ref-resolver.js';
import type { ExitSignalEvent } from '../../contracts/exit-signal.js';
import { formatZodIssues } from '../../contracts/issues.js';
import {
  MARKET_SNAPSHOT_DETAIL_TYPE,
  type MarketSnapshotCloudEvent,
  MarketSnapshotCloudEventSchema,
} from '../../contracts/market-snapshot.js';
import { type RiskSnapshotCloudEvent, RiskSnapshotCloudEventSchema } from '../../contracts/risk-snapshot.js';
import { ExitEngine, type Outcome } from '../../engine/engine.js';
import { EngineError } from '../../engine/errors.js';
import type { RuleOutcome } from '../../engine/evaluate.js';
import type { AdvanceResult, EngineLogger, EngineMetrics } from '../../engine/ports.js';
import { MarketEventSchema } from '../../handlers/market-handler.js';
import { MAX_EVENT_BYTES, SnapshotEventSchema } from '../../handlers/snapshot-handler.js';
import { wrapSnapshot } from '../../local/stream-input.js';
import type { RuleSetRegistry } from '../../rules/ruleset-loader.js';
import { ENGINE_VERSION } from '../../runtime/wire.js';
import { type CliCommand, parseFlags, requiredFlag } from '../args.js';
import { InputError, inputShape } from '../load-input.js';
import { DEFAULT_MARKET_MAX_AGE_MS, DEFAULT_RULES, formatTable } from './evaluate.js';
import { formatRuleValue, loadRuleSets, measureName } from './rules.js';

const SNAPSHOT_TYPE = 'risk_snapshot_updated';
const LEASE_MS = 60_000;
// The retention a deployment uses by default; it only sets the expiry stamped on stored rows.
const SIGNAL_RETENTION_DAYS = 400;
const AUDIT_RETENTION_DAYS = 2555;

const noMetrics: EngineMetrics = { count: () => undefined, measure: () => undefined };
const noLogs: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What one line of the stream was and what the engine did with it. */
export interface ReplayedLine {
  line: number;
  type: typeof SNAPSHOT_TYPE | typeof MARKET_SNAPSHOT_DETAIL_TYPE | 'invalid';
  /** The replay clock for this line: the event's own time. */
  nowMs: number;
  /** Snapshot version or market scope, for the summary. */
  subject: string;
  /** For market data: stored, the same again, or older than what was stored. */
  market?: AdvanceResult;
  outcomes: Outcome[];
  /** How many events the publisher held before this line, to attribute what it published. */
  publishedBefore: number;
  /** A retryable engine failure (Lambda would retry the delivery); the replay reports it and goes on. */
  error?: string;
}

/** A finished replay: every line, and the in-memory store and publisher the engine used. */
export interface ReplayResult {
  lines: ReplayedLine[];
  store: InMemoryEngineStore;
  publisher: InMemoryPublisher;
  ruleSets: RuleSetRegistry;
}

type Delivery =
  | { type: typeof SNAPSHOT_TYPE; cloudEvent: RiskSnapshotCloudEvent; deliveryId: string; nowMs: number }
  | {
      type: typeof MARKET_SNAPSHOT_DETAIL_TYPE;
      cloudEvent: MarketSnapshotCloudEvent;
      deliveryId: string;
      nowMs: number;
    }
  | {
      type: 'invalid';
      category: string;
      reasons: string[];
      worldId: string | undefined;
      deliveryId: string;
      time: string;
      nowMs: number;
      raw: unknown;
    };

const timeOf = (value: unknown): number | undefined => {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/** The world a malformed event names, when it can be read, so its rejection is filed there. */
function worldOf(raw: unknown): string | undefined {
  const e = (raw ?? {}) as Record<string, unknown>;
  const detail = (e.detail ?? e) as Record<string, unknown>;
  const data = (detail.data ?? detail) as Record<string, unknown>;
  return typeof data.world_id === 'string' && data.world_id !== '' ? data.world_id : undefined;
}

/**
 * Turns one parsed line into a validated delivery, with the same schemas the Lambda edge uses;
 * anything else becomes a rejection that names the field. `clockMs` is the time a line without a
 * usable time of its own is recorded at.
 */
function toDelivery(json: unknown, line: number, clockMs: number): Delivery {
  const lineId = `replay-line-${line}`;
  const shape = inputShape(json);
  const v = json as Record<string, unknown>;
  const reject = (category: string, reasons: string[], time?: unknown): Delivery => {
    const ms = timeOf(time) ?? clockMs;
    return {
      type: 'invalid',
      category,
      reasons,
      worldId: worldOf(json),
      deliveryId: typeof v?.id === 'string' && shape === 'eventbridge' ? v.id : lineId,
      time: typeof time === 'string' && timeOf(time) !== undefined ? time : new Date(ms).toISOString(),
      nowMs: ms,
      raw: json,
    };
  };
  const invalid = (error: z.ZodError, time: unknown) =>
    reject('schema_violation', formatZodIssues(error), time);

  if (shape === 'eventbridge') {
    const type = v['detail-type'];
    if (type === SNAPSHOT_TYPE) {
      const parsed = SnapshotEventSchema.safeParse(json);
      if (!parsed.success) return invalid(parsed.error, v.time);
      const e = parsed.data;
      const bytes = Buffer.byteLength(JSON.stringify(e.detail));
      if (bytes > MAX_EVENT_BYTES)
        return reject(
          'oversize',
          [
            `detail: ${bytes} bytes, over EventBridge's ${MAX_EVENT_BYTES}-byte limit; send large inputs by *_ref`,
          ],
          e.time,
        );
      return { type, cloudEvent: e.detail, deliveryId: e.id, nowMs: Date.parse(e.time) };
    }
    if (type === MARKET_SNAPSHOT_DETAIL_TYPE) {
      const parsed = MarketEventSchema.safeParse(json);
      if (!parsed.success) return invalid(parsed.error, v.time);
      const e = parsed.data;
      return { type, cloudEvent: e.detail, deliveryId: e.id, nowMs: Date.parse(e.time) };
    }
    return reject(
      'unsupported_event_type',
      [`detail-type: '${String(type)}' is neither ${SNAPSHOT_TYPE} nor ${MARKET_SNAPSHOT_DETAIL_TYPE}`],
      v.time,
    );
  }
  let cloudEvent: unknown = json;
  if (shape === 'snapshot') {
    // A bare snapshot is wrapped the way the hub would publish it (as `exit-engine local` does).
    cloudEvent = JSON.parse(wrapSnapshot(v).Detail ?? '{}');
  } else if (shape !== 'cloudevent') {
    return reject('unparsable_detail', ['not an EventBridge event, a CloudEvent or a snapshot']);
  }
  const ce = cloudEvent as Record<string, unknown>;
  // The wrapper falls back to the wall clock for a snapshot without times; never let that in.
  const ownTime = shape === 'snapshot' ? (v.created_at ?? v.as_of) : ce.time;
  if (ce.type === MARKET_SNAPSHOT_DETAIL_TYPE) {
    const parsed = MarketSnapshotCloudEventSchema.safeParse(ce);
    if (!parsed.success) return invalid(parsed.error, ownTime);
    const type = MARKET_SNAPSHOT_DETAIL_TYPE;
    return { type, cloudEvent: parsed.data, deliveryId: lineId, nowMs: Date.parse(parsed.data.time) };
  }
  const parsed = RiskSnapshotCloudEventSchema.safeParse(ce);
  if (!parsed.success) return invalid(parsed.error, ownTime);
  return {
    type: SNAPSHOT_TYPE,
    cloudEvent: parsed.data,
    deliveryId: lineId,
    nowMs: Date.parse(parsed.data.time),
  };
}

/** Hands one delivery to the engine, as the Lambda handlers do after validating it. */
async function deliver(
  engine: ExitEngine,
  delivery: Delivery,
  invocationId: string,
): Promise<Pick<ReplayedLine, 'outcomes' | 'market'>> {
  if (delivery.type === 'invalid') {
    const outcome = await engine.recordRejection({
      worldId: delivery.worldId,
      deliveryId: delivery.deliveryId,
      time: delivery.time,
      reasons: delivery.reasons,
      category: delivery.category,
      raw: delivery.raw,
      nowMs: delivery.nowMs,
    });
    return { outcomes: [outcome] };
  }
  if (delivery.type === SNAPSHOT_TYPE) {
    const outcome = await engine.handleSnapshot({
      cloudEvent: delivery.cloudEvent,
      deliveryId: delivery.deliveryId,
      invocationId,
      nowMs: delivery.nowMs,
    });
    return { outcomes: [outcome] };
  }
  // Stores the view (older data never wins), then re-evaluates each world it concerns.
  const result = await engine.handleMarket({
    cloudEvent: delivery.cloudEvent,
    deliveryId: delivery.deliveryId,
    invocationId,
    nowMs: delivery.nowMs,
  });
  return { outcomes: result.outcomes, market: result.market };
}

/**
 * Runs a JSONL stream (EventBridge events, CloudEvents or bare snapshots; blank lines and `#`
 * comments skipped) through the engine with in-memory adapters, in file order. Each event is
 * evaluated as of its own time, and ids derive from line numbers, so the same input always gives
 * the same result.
 */
export async function replayEvents(text: string, ruleSets: RuleSetRegistry): Promise<ReplayResult> {
  const store = new InMemoryEngineStore();
  const publisher = new InMemoryPublisher();
  // The replay clock: leases, like evaluations, run on event time so nothing reads the wall clock.
  let clockMs = 0;
  const engine = new ExitEngine({
    store,
    publisher,
    refs: new UriRefResolver({ allowFiles: true }),
    ruleSets,
    metrics: noMetrics,
    logger: noLogs,
    engineVersion: ENGINE_VERSION,
    leaseMs: LEASE_MS,
    signalRetentionDays: SIGNAL_RETENTION_DAYS,
    auditRetentionDays: AUDIT_RETENTION_DAYS,
    marketMaxAgeMs: DEFAULT_MARKET_MAX_AGE_MS,
    wallClock: () => clockMs,
  });
  const lines: ReplayedLine[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const line = i + 1;
    const trimmed = rows[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const publishedBefore = publisher.published().length;
    let json: unknown;
    let delivery: Delivery | undefined;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      delivery = {
        type: 'invalid',
        category: 'unparsable_detail',
        reasons: [`not valid JSON: ${(error as Error).message}`],
        worldId: undefined,
        deliveryId: `replay-line-${line}`,
        time: new Date(clockMs).toISOString(),
        nowMs: clockMs,
        raw: trimmed.slice(0, 2000),
      };
    }
    delivery ??= toDelivery(json, line, clockMs);
    clockMs = delivery.nowMs;
    const subject =
      delivery.type === 'invalid'
        ? delivery.category
        : delivery.type === SNAPSHOT_TYPE
          ? delivery.cloudEvent.data.version
          : delivery.cloudEvent.data.scope;
    const replayed: ReplayedLine = {
      line,
      type: delivery.type,
      nowMs: clockMs,
      subject,
      outcomes: [],
      publishedBefore,
    };
    try {
      Object.assign(replayed, await deliver(engine, delivery, `replay-line-${line}`));
    } catch (error) {
      // What Lambda would retry; replaying the same input again cannot succeed, so report it.
      if (!(error instanceof EngineError)) throw error;
      replayed.error = `${error.name}: ${error.message}`;
    }
    lines.push(replayed);
  }
  return { lines, store, publisher, ruleSets };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return `${d}d ${String(h).padStart(2, '0')}h${String(m).padStart(2, '0')}m`;
}

interface Episode {
  world: string;
  rule: string;
  scope: string;
  mode: string;
  openedAt: string;
  closedAt?: string;
  spanMs: number;
}

/** Episodes from the audit trail: an evaluation whose rule verdict is `fired` opens one, `cleared` closes it. */
function episodesOf(result: ReplayResult): Episode[] {
  const open = new Map<string, Episode>();
  const all: Episode[] = [];
  const lastAsOf = new Map<string, string>();
  for (const record of result.store.allAudit()) {
    if (record.kind !== 'evaluation') continue;
    // The as_of of the data evaluated: the snapshot's, or the market data's when a market event
    // re-evaluated an older snapshot (else a market-triggered episode would last no time at all).
    let asOf = String((record.inputs as { as_of?: string } | undefined)?.as_of ?? '');
    const marketAsOf = (record.provenance as { market_as_of?: Record<string, unknown> } | undefined)
      ?.market_as_of;
    for (const t of Object.values(marketAsOf ?? {})) {
      if (typeof t === 'string' && Date.parse(t) > Date.parse(asOf)) asOf = t;
    }
    const asOfMs = Date.parse(asOf);
    if (!Number.isFinite(asOfMs)) continue;
    const seen = lastAsOf.get(record.world_id);
    if (seen === undefined || Date.parse(seen) < asOfMs) lastAsOf.set(record.world_id, asOf);
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
        open.set(k, episode);
        all.push(episode);
      } else if (o.verdict === 'cleared') {
        const episode = open.get(k);
        if (!episode) continue;
        episode.closedAt = asOf;
        episode.spanMs = asOfMs - Date.parse(episode.openedAt);
        open.delete(k);
      }
    }
  }
  // Still open at the end: in breach up to the last snapshot the world was evaluated on.
  for (const episode of open.values()) {
    const last = lastAsOf.get(episode.world) ?? episode.openedAt;
    episode.spanMs = Date.parse(last) - Date.parse(episode.openedAt);
  }
  return all;
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

/** One readable line per signal it would have published, with the rule and numbers behind it. */
function signalLines(result: ReplayResult): string[][] {
  const lineOf = (index: number) => {
    let found = result.lines[0]?.line ?? 0;
    for (const l of result.lines) if (l.publishedBefore <= index) found = l.line;
    return found;
  };
  const rows: string[][] = [];
  result.publisher.published().forEach((event, index) => {
    if (event.type !== 'exit_signal_emitted') return;
    const d = event.data;
    const ruleSet = result.ruleSets.forWorld(d.world_id);
    for (const s of d.signals) {
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
      rows.push([
        `line ${lineOf(index)}`,
        d.as_of,
        d.world_id,
        s.action.toUpperCase(),
        s.strategy_id,
        s.action === 'reduce' ? `by ${pct(s.reduction_ratio ?? 0)}` : '',
        String(s.reason),
        `${why}${others.length > 0 ? ` (also ${others.join(', ')})` : ''}`,
      ]);
    }
  });
  return rows;
}

/** The replay's report: what happened, then every signal it would have published. */
export function describeReplay(result: ReplayResult): string[] {
  const out: string[] = [];
  const byType = (t: ReplayedLine['type']) => result.lines.filter((l) => l.type === t).length;
  out.push(
    `events: ${result.lines.length} (${SNAPSHOT_TYPE} ${byType(SNAPSHOT_TYPE)}, ${MARKET_SNAPSHOT_DETAIL_TYPE} ${byType(
      MARKET_SNAPSHOT_DETAIL_TYPE,
    )}, invalid ${byType('invalid')})`,
  );
  const counts = new Map<string, number>();
  for (const l of result.lines)
    for (const o of l.outcomes) counts.set(o.outcome, (counts.get(o.outcome) ?? 0) + 1);
  out.push(
    `outcomes: ${
      OUTCOME_ORDER.filter((o) => counts.has(o))
        .map((o) => `${o} ${counts.get(o)}`)
        .join(', ') || 'none'
    }`,
  );
  const exits = result.publisher.exitSignals();
  const signalCount = exits.reduce((n, e) => n + e.data.signals.length, 0);
  out.push(`published: ${exits.length} exit_signal_emitted events with ${signalCount} signals`);

  out.push('', 'signals per rule and world (published; a merged signal counts for each of its rules):');
  const perRule = new Map<string, Record<string, number>>();
  for (const e of exits) {
    for (const s of e.data.signals) {
      for (const tag of s.tags ?? []) {
        if (!tag.startsWith('rule:')) continue;
        const k = `${e.data.world_id}\u0000${tag.slice('rule:'.length)}`;
        const c = perRule.get(k) ?? {};
        c[s.action] = (c[s.action] ?? 0) + 1;
        perRule.set(k, c);
      }
    }
  }
  const held = new Map<string, Record<string, number>>();
  for (const item of result.store.allSignals()) {
    if (item.status === 'published' || item.status === 'pending_publish') continue;
    for (const rule of item.rule_ids) {
      const k = `${item.world_id}\u0000${rule}`;
      const c = held.get(k) ?? {};
      c[item.status] = (c[item.status] ?? 0) + 1;
      held.set(k, c);
    }
  }
  const ruleRows = [...perRule].sort(([a], [b]) => (a < b ? -1 : 1));
  if (ruleRows.length === 0) out.push('  none');
  out.push(
    ...formatTable(
      ruleRows.map(([k, c]) => [
        `  ${k.replace('\u0000', '  ')}`,
        (['exit', 'reduce', 'hold'] as const).map((a) => `${a} ${c[a] ?? 0}`).join(', '),
      ]),
    ),
  );
  if (held.size > 0) {
    out.push('', 'signals held back (stored, not published):');
    out.push(
      ...formatTable(
        [...held]
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

  const episodes = episodesOf(result);
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

  const listed = (
    title: string,
    pick: (o: Outcome) => string | undefined,
    extra?: (l: ReplayedLine) => string | undefined,
  ) => {
    const rows: string[] = [];
    for (const l of result.lines) {
      const own = extra?.(l);
      if (own) rows.push(`  line ${l.line}: ${own}`);
      for (const o of l.outcomes) {
        const text = pick(o);
        if (text) rows.push(`  line ${l.line}: ${text}`);
      }
    }
    out.push('', `${title}: ${rows.length}`, ...rows);
  };
  listed('rejections', (o) =>
    o.outcome === 'rejected'
      ? `${o.world_id}: ${o.reasons.join('; ')}`
      : o.outcome === 'no_ruleset'
        ? `${o.world_id}: no rule set for this world and no default rule set`
        : undefined,
  );
  listed('duplicates', (o) =>
    o.outcome === 'duplicate' ? `${o.world_id}: already evaluated; no second signal` : undefined,
  );
  listed(
    'out of order',
    (o) =>
      o.outcome === 'out_of_order'
        ? `${o.world_id}: older than the latest snapshot (as_of ${o.latest_as_of}); recorded and ignored`
        : o.outcome === 'superseded'
          ? `${o.world_id}: a newer snapshot arrived during evaluation`
          : undefined,
    (l) =>
      l.market === 'older'
        ? `market scope ${l.subject}: older than the stored data; recorded and ignored`
        : undefined,
  );
  const expired = result.lines.flatMap((l) =>
    l.outcomes.flatMap((o) =>
      o.outcome === 'expired' ? [`  line ${l.line}: ${o.world_id}: expired at ${o.expired_at}`] : [],
    ),
  );
  if (expired.length > 0) out.push('', `expired (recorded, not evaluated): ${expired.length}`, ...expired);

  const failed = result.lines.filter((l) => l.error !== undefined);
  if (failed.length > 0) {
    out.push('', `engine errors (Lambda would retry these deliveries): ${failed.length}`);
    for (const l of failed) out.push(`  line ${l.line}: ${l.error}`);
  }

  const rows = signalLines(result);
  out.push('', `signals it would have published: ${rows.length}`);
  out.push(...formatTable(rows.map((r) => [`  ${r[0]}`, ...r.slice(1)])));
  return out;
}

/** `exit-engine replay`: what the rules would have done over a recorded stream, deterministically. */
export const command: CliCommand = {
  name: 'replay',
  summary:
    'Replay a JSONL stream of risk_snapshot_updated and market_snapshot_updated events (EventBridge events, CloudEvents or bare snapshots) through the engine with in-memory adapters, each event evaluated as of its own time; print a summary (signals per rule and world, episodes, time in breach, rejections, duplicates, out-of-order deliveries) and every signal it would have published. The same input gives byte-identical output. A --rules FILE applies to every world in the stream.',
  usage: 'exit-engine replay --events FILE.jsonl [--rules FILE_OR_DIR] [--out FILE.jsonl]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      events: { type: 'string' },
      rules: { type: 'string' },
      out: { type: 'string' },
    });
    const eventsPath = requiredFlag('events', values.events);
    const rulesPath = values.rules ?? DEFAULT_RULES;
    const { registry, label } = loadRuleSets(rulesPath);
    const text = await readFile(eventsPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new InputError(
        `--events ${eventsPath}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
      );
    });
    const result = await replayEvents(text, registry);
    console.log(`replay of ${eventsPath} with rules ${label}`);
    console.log(describeReplay(result).join('\n'));
    if (values.out) {
      const exits: ExitSignalEvent[] = result.publisher.exitSignals();
      await mkdir(dirname(values.out), { recursive: true });
      await writeFile(values.out, exits.map((e) => `${JSON.stringify(e)}\n`).join(''));
      console.log(`\nwrote ${exits.length} exit_signal_emitted events to ${values.out}`);
    }
    // Every line was replayed, but one the engine could not complete is worth a failing status.
    return result.lines.some((l) => l.error !== undefined) ? 1 : 0;
  },
};
