import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { type SnapshotData, snapshotExpiresAt } from '#lib/contracts/risk-snapshot.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import type { DecidedSignal, EvaluationResult } from './evaluate.js';
import { deterministicUuid } from './ids.js';
import type { AuditRecord, LatestSnapshot, SignalItem, SignalStatus, SnapshotHead } from './ports.js';
import { boundReasons, MAX_REASONS } from './rejections.js';
import { POSITION_FIELDS } from './snapshot-reuse.js';

/** The records an evaluation stores: signal rows for ops and its audit record. Pure builders. */

const DAY_SECONDS = 86_400;

/**
 * How long a record is kept, from when: retention runs on the wall clock at write time, never the
 * event's own time, so replayed history (evaluated as of its own time) stays listable for its
 * retention period instead of vanishing to TTL.
 */
export interface Retention {
  days: number;
  /** Wall-clock ms at write time. */
  fromMs: number;
}

/** Epoch seconds after which DynamoDB deletes the record. */
export function expiry(retention: Retention): number {
  return Math.floor(retention.fromMs / 1000) + retention.days * DAY_SECONDS;
}

/** What identifies one evaluation to the builders. */
export interface EvaluationFacts {
  world: string;
  evaluationKey: string;
  ruleSet: RuleSet;
  nowMs: number;
  auditId: string;
  data: SnapshotData;
}

/** One row of the signals table for a decided signal (its event id when it is published). */
export function signalItem(
  d: DecidedSignal,
  a: EvaluationFacts,
  now: string,
  eventId: string | undefined,
  retention: Retention,
): SignalItem {
  const status: SignalStatus =
    d.channel === 'enforce'
      ? 'pending_publish'
      : d.channel === 'approval'
        ? 'proposed'
        : d.channel === 'shadow'
          ? 'shadow'
          : 'muted';
  const approval =
    d.channel === 'approval'
      ? (d.approval ?? { timeout_sec: 900, default: 'drop' as const, four_eyes: false })
      : undefined;
  return {
    signal_id: `sig-${deterministicUuid('signal', a.evaluationKey, d.channel, d.signal.strategy_id)}`,
    world_id: a.world,
    strategy_id: d.signal.strategy_id,
    action: d.signal.action,
    reduction_ratio: d.signal.reduction_ratio,
    reason: d.signal.reason,
    status,
    mode: d.channel,
    emitted_at: now,
    as_of: a.data.as_of,
    snapshot_version: a.data.version,
    ...(d.channel === 'enforce' && eventId ? { event_id: eventId } : {}),
    evaluation_key: a.evaluationKey.slice(0, 16),
    rule_ids: d.rule_ids,
    severity: d.severity,
    tags: d.signal.tags,
    metrics: d.signal.metrics,
    ruleset_version: a.ruleSet.version,
    ...(approval
      ? {
          approval: {
            ...approval,
            deadline: new Date(a.nowMs + approval.timeout_sec * 1000).toISOString(),
            // The sweep expires, never emits, a proposal whose snapshot is long expired (replayed history).
            snapshot_expires_at: new Date(snapshotExpiresAt(a.data)).toISOString(),
          },
        }
      : {}),
    ...(d.mute ? { mute_id: d.mute.mute_id } : {}),
    expires_at: expiry(retention),
  };
}

/** The audit record of an evaluation: every rule's numbers, every decision, what was published. */
export function evaluationAudit(
  a: EvaluationFacts,
  now: string,
  warnings: string[],
  result: EvaluationResult,
  provenance: Record<string, unknown>,
  events: readonly ExitSignalEvent[],
  items: readonly SignalItem[],
  retention: Retention,
): AuditRecord {
  return {
    world_id: a.world,
    record_id: `${now}#evaluation#${a.auditId}#${a.evaluationKey.slice(0, 16)}`,
    kind: 'evaluation',
    recorded_at: now,
    evaluation_key: a.evaluationKey.slice(0, 16),
    ruleset_version: a.ruleSet.version,
    inputs: {
      snapshot_version: a.data.version,
      snapshot_hash: a.data.hash ?? null,
      as_of: a.data.as_of,
      refs: Object.fromEntries(
        (['covariance_ref', 'realized_returns_ref', 'stress_ref'] as const)
          .filter((k) => a.data[k])
          .map((k) => [k, a.data[k]]),
      ),
    },
    provenance,
    // Bounded like a rejection's reasons: a large world's input can raise one warning per pair.
    warnings: boundReasons(warnings).reasons,
    ...(warnings.length > MAX_REASONS ? { warnings_total: warnings.length } : {}),
    rules: result.outcomes,
    decisions: items.map((i) => ({
      signal_id: i.signal_id,
      strategy_id: i.strategy_id,
      action: i.action,
      reduction_ratio: i.reduction_ratio,
      status: i.status,
      rule_ids: i.rule_ids,
    })),
    published_event_id: events[0]?.id ?? null,
    ...(events.length > 1 ? { published_event_ids: events.map((e) => e.id) } : {}),
    expires_at: expiry(retention),
  };
}

/** The fields of a snapshot that say which one it is; everything else is its body. */
const HEAD_KEYS = [
  'world_id',
  'as_of',
  'version',
  'hash',
  'created_at',
  'ttl_sec',
  'event_version',
  'idempotency_key',
] as const satisfies readonly (keyof SnapshotHead)[];

/**
 * A snapshot split into its head (identity, on the compact latest record) and its body (weights,
 * covariance, returns, stress, ...). A hub re-publishing the same portfolio within its ttl sends a
 * new head over the same body, so a body keyed by its content is written once for all of them.
 */
export function splitSnapshot(data: SnapshotData): { head: SnapshotHead; body: Record<string, unknown> } {
  const head: Record<string, unknown> = {};
  const body: Record<string, unknown> = { ...data };
  for (const key of HEAD_KEYS) {
    if (key in body) head[key] = body[key];
    delete body[key];
  }
  return { head: head as SnapshotHead, body };
}

/** The snapshot again from its head and body (optional keys stay absent, never null). */
export function joinSnapshot(head: SnapshotHead, body: Record<string, unknown>): SnapshotData {
  return { ...body, ...head } as SnapshotData;
}

/**
 * What a store keeps of a snapshot besides its head: the whole body, only its weights, or the
 * `positions` projection (the body fields POSITION_FIELDS names that it has; snapshot-reuse.ts).
 */
export function keptBody(data: SnapshotData, kept: LatestSnapshot['body_kept']): Record<string, unknown> {
  const { body } = splitSnapshot(data);
  if (kept === 'weights') return { weights: body.weights };
  if (kept !== 'positions') return body;
  const projected: Record<string, unknown> = {};
  for (const field of POSITION_FIELDS) if (body[field] !== undefined) projected[field] = body[field];
  return projected;
}

/**
 * The compact latest-snapshot record for a snapshot the hub sent; `kept` names the projection of the
 * body its store keeps when the rule set's later evaluations need less than the whole body
 * (snapshot-reuse.ts).
 */
export function latestRecord(
  data: SnapshotData,
  triggerKey: string,
  sourceEventId: string,
  kept?: LatestSnapshot['body_kept'],
): LatestSnapshot {
  return {
    world_id: data.world_id,
    as_of: data.as_of,
    as_of_ms: Date.parse(data.as_of),
    version: data.version,
    trigger_key: triggerKey,
    source_event_id: sourceEventId,
    expires_at_ms: snapshotExpiresAt(data),
    head: splitSnapshot(data).head,
    ...(kept ? { body_kept: kept } : {}),
  };
}
