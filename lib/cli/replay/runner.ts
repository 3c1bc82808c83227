import type * as z from 'zod/mini';
import { InMemoryMarketReevaluationQueue } from '#lib/adapters/memory/memory-market-queue.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { UriRefResolver } from '#lib/adapters/refs/ref-resolver.js';
import { inputShape, oversizeReason, rawFacts } from '#lib/app/edge.js';
import { MarketEventSchema } from '#lib/app/market-edge.js';
import { SnapshotEventSchema } from '#lib/app/snapshot-edge.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { formatZodIssues } from '#lib/contracts/issues.js';
import {
  MARKET_SNAPSHOT_DETAIL_TYPE,
  type MarketSnapshotCloudEvent,
  MarketSnapshotCloudEventSchema,
} from '#lib/contracts/market-snapshot.js';
import {
  type RiskSnapshotCloudEvent,
  RiskSnapshotCloudEventSchema,
  type SnapshotData,
} from '#lib/contracts/risk-snapshot.js';
import { ExitEngine, type Outcome } from '#lib/engine/engine.js';
import { EngineError } from '#lib/engine/errors.js';
import type { AdvanceResult, AuditRecord, EngineLogger, EngineMetrics } from '#lib/engine/ports.js';
import { wrapSnapshot } from '#lib/local/stream-input.js';
import type { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { ENGINE_VERSION } from '#lib/runtime/wire.js';
import { DEFAULT_MARKET_MAX_AGE_MS } from '../commands/evaluate.js';
import type { OpsLine } from './ops-file.js';
import { type AppliedOps, OpsLinkedEngineStore, ReplayOps } from './ops-replay.js';

export const SNAPSHOT_TYPE = 'risk_snapshot_updated';
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
  /** For market data: stored, the same again, older than what was stored, or rejected (future-dated). */
  market?: AdvanceResult | 'rejected';
  outcomes: Outcome[];
  /** A retryable engine failure (Lambda would retry the delivery); the replay reports it and goes on. */
  error?: string;
}

/**
 * Everything a replay reports, handed over as it happens so nothing has to keep the whole stream:
 * each line's outcome, each audit record the engine wrote, each event it published, and each valid
 * snapshot (for the portfolio view of the report).
 */
export interface ReplaySink {
  line?(line: ReplayedLine): void;
  audit?(record: AuditRecord, line: number): void;
  published?(event: EngineEvent, line: number): void;
  snapshot?(data: SnapshotData, line: number): void;
  /** An ops action of `--ops`, applied at its time (its line is the ops file's). */
  ops?(applied: AppliedOps): void;
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
      worldId: rawFacts(json).worldId,
      deliveryId: typeof v?.id === 'string' && shape === 'eventbridge' ? v.id : lineId,
      time: typeof time === 'string' && timeOf(time) !== undefined ? time : new Date(ms).toISOString(),
      nowMs: ms,
      raw: json,
    };
  };
  const invalid = (error: z.core.$ZodError, time: unknown) =>
    reject('schema_violation', formatZodIssues(error), time);

  if (shape === 'eventbridge') {
    const type = v['detail-type'];
    if (type === SNAPSHOT_TYPE) {
      const parsed = SnapshotEventSchema.safeParse(json);
      if (!parsed.success) return invalid(parsed.error, v.time);
      const e = parsed.data;
      const oversize = oversizeReason(e.detail);
      if (oversize) return reject('oversize', [oversize], e.time);
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
  // Stores the view (older data never wins) and asks for one re-evaluation per world it concerns;
  // each then runs, in order, through the per-world use case the bus delivers requests to in Lambda.
  const queue = new InMemoryMarketReevaluationQueue();
  const result = await engine.handleMarket(
    {
      cloudEvent: delivery.cloudEvent,
      deliveryId: delivery.deliveryId,
      invocationId,
      nowMs: delivery.nowMs,
    },
    queue,
  );
  const outcomes = [...result.outcomes];
  for (const request of queue.take()) {
    outcomes.push(
      await engine.reevaluateOnMarketRequest({
        worldId: request.worldId,
        marketEventId: request.marketEventId,
        deliveryId: `${delivery.deliveryId}:${request.worldId}`,
        invocationId,
        nowMs: request.requestedAtMs,
      }),
    );
  }
  return { outcomes, market: result.market };
}

/**
 * Runs a JSONL stream (EventBridge events, CloudEvents or bare snapshots; blank lines and `#`
 * comments skipped) through the engine with in-memory adapters, in file order, handing every
 * result to `sink` as it happens. Each event is evaluated as of its own time, and ids derive from
 * line numbers, so the same input always gives the same result. Lines are read one at a time and
 * audit bodies and published events are not kept, so memory does not grow with the stream beyond
 * the engine's own dedupe and episode state.
 */
export async function replayStream(
  rows: AsyncIterable<string> | Iterable<string>,
  ruleSets: RuleSetRegistry,
  sink: ReplaySink,
  options: { ops?: readonly OpsLine[] } = {},
): Promise<void> {
  let current = 0;
  const onAudit = (record: AuditRecord) => sink.audit?.(record, current);
  // With ops actions, the engine and the ops service share signal rows, outboxes and mutes.
  const replayOps = options.ops ? new ReplayOps() : undefined;
  const store = replayOps
    ? new OpsLinkedEngineStore(replayOps.store, { onAudit })
    : new InMemoryEngineStore({ onAudit });
  const publisher = {
    async publish(events: readonly EngineEvent[]) {
      // Copied as the bus would serialize them, so later changes by the caller cannot leak in.
      for (const event of events) sink.published?.(JSON.parse(JSON.stringify(event)), current);
    },
  };
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
  replayOps?.connect({
    engineStore: store,
    ruleSets,
    publisher,
    engineVersion: ENGINE_VERSION,
    leaseMs: LEASE_MS,
    auditRetentionDays: AUDIT_RETENTION_DAYS,
  });
  const pendingOps = [...(options.ops ?? [])];
  /** Applies every ops action due by `untilMs` (all that are left, without it), in file order. */
  const applyOps = async (untilMs = Number.POSITIVE_INFINITY) => {
    while (replayOps && pendingOps.length > 0 && pendingOps[0]!.atMs <= untilMs) {
      const op = pendingOps.shift()!;
      clockMs = op.atMs;
      sink.ops?.(await replayOps.apply(op));
    }
  };
  let line = 0;
  for await (const row of rows) {
    line += 1;
    current = line;
    const trimmed = row.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
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
    // An ops action at the same time as an event comes first (a mute set at 10:00 covers 10:00).
    await applyOps(delivery.nowMs);
    clockMs = delivery.nowMs;
    const subject =
      delivery.type === 'invalid'
        ? delivery.category
        : delivery.type === SNAPSHOT_TYPE
          ? delivery.cloudEvent.data.version
          : delivery.cloudEvent.data.scope;
    if (delivery.type === SNAPSHOT_TYPE) sink.snapshot?.(delivery.cloudEvent.data, line);
    const replayed: ReplayedLine = { line, type: delivery.type, nowMs: clockMs, subject, outcomes: [] };
    try {
      Object.assign(replayed, await deliver(engine, delivery, `replay-line-${line}`));
    } catch (error) {
      // What Lambda would retry; replaying the same input again cannot succeed, so report it.
      if (!(error instanceof EngineError)) throw error;
      replayed.error = `${error.name}: ${error.message}`;
    }
    sink.line?.(replayed);
  }
  await applyOps();
}
