import type { ExitSignalEvent, ExitSignalProposedEvent } from '#lib/contracts/exit-signal.js';
import {
  EXIT_ENGINE_SOURCE,
  EXIT_SIGNAL_DETAIL_TYPE,
  EXIT_SIGNAL_PROPOSED_DETAIL_TYPE,
  exitSignalIdempotencyKey,
} from '#lib/contracts/exit-signal-ids.js';
import type { DecidedSignal } from './evaluate.js';
import { deterministicUuid } from './ids.js';
import type { SignalItem } from './ports.js';

export interface EventContext {
  world_id: string;
  as_of: string;
  snapshot_version: string;
  snapshot_event_version: number;
  evaluation_key: string;
  now: string;
  provenance: Record<string, unknown>;
}

/** The envelope and snapshot fields every event of one evaluation shares. */
function evaluationEnvelope<T extends string>(type: T, ctx: EventContext) {
  const key = ctx.evaluation_key.slice(0, 16);
  return {
    specversion: '1.0' as const,
    id: deterministicUuid(type, ctx.evaluation_key),
    source: EXIT_ENGINE_SOURCE,
    type,
    time: ctx.now,
    datacontenttype: 'application/json' as const,
    correlation_id: `exit_signal:${ctx.world_id}:${key}`,
    data: {
      world_id: ctx.world_id,
      as_of: ctx.as_of,
      snapshot_version: ctx.snapshot_version,
      event_version: ctx.snapshot_event_version,
      provenance: ctx.provenance,
    },
  };
}

/**
 * What one published event may weigh: EventBridge takes 256 KB per entry (detail, detail-type,
 * source); the rest is headroom for the envelope fields added to each part.
 */
export const MAX_EVENT_PART_BYTES = 200 * 1024;

/**
 * Builds the upstream-exact `exit_signal_emitted` for the signals to publish: one event, or when
 * that would pass the size limit, parts of whole signals, each under the limit and valid on its
 * own. Parts share the evaluation's key; the idempotency key ends in `part-<n>-of-<count>` and the
 * provenance says `part: { index, count }`, so a gateway can tell a part from a duplicate.
 */
export function buildExitSignalEvents(
  ctx: EventContext,
  signals: readonly DecidedSignal[],
  maxBytes = MAX_EVENT_PART_BYTES,
): ExitSignalEvent[] {
  const whole = buildExitSignalEvent(ctx, signals);
  if (Buffer.byteLength(JSON.stringify(whole)) <= maxBytes) return [whole];
  const overhead =
    Buffer.byteLength(JSON.stringify({ ...whole, data: { ...whole.data, signals: [] } })) + 200;
  const groups = groupBySize(signals, (d) => Buffer.byteLength(JSON.stringify(d.signal)), overhead, maxBytes);
  return groups.map((group, i) => buildExitSignalEvent(ctx, group, { index: i + 1, count: groups.length }));
}

/** Builds one upstream-exact `exit_signal_emitted` CloudEvent (a whole evaluation, or one part of it). */
export function buildExitSignalEvent(
  ctx: EventContext,
  signals: readonly DecidedSignal[],
  part?: { index: number; count: number },
): ExitSignalEvent {
  const base = evaluationEnvelope(EXIT_SIGNAL_DETAIL_TYPE, ctx);
  const key = ctx.evaluation_key.slice(0, 16);
  const suffix = part ? `:part-${part.index}-of-${part.count}` : '';
  return {
    ...base,
    ...(part
      ? {
          id: deterministicUuid(
            EXIT_SIGNAL_DETAIL_TYPE,
            ctx.evaluation_key,
            `part-${part.index}-of-${part.count}`,
          ),
        }
      : {}),
    data: {
      ...base.data,
      idempotency_key: exitSignalIdempotencyKey(
        ctx.world_id,
        ctx.snapshot_version,
        ctx.snapshot_event_version,
        `${key}${suffix}`,
      ),
      signals: signals.map((d) => d.signal),
      ...(part ? { provenance: { ...ctx.provenance, part } } : {}),
    },
  };
}

/** Groups items, in order, so each group's serialized size plus `overhead` stays under `maxBytes`. */
function groupBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  overhead: number,
  maxBytes: number,
) {
  const groups: T[][] = [];
  let bytes = overhead;
  for (const item of items) {
    const size = sizeOf(item) + 1;
    const last = groups.at(-1);
    if (!last || bytes + size > maxBytes) {
      groups.push([item]);
      bytes = overhead + size;
    } else {
      last.push(item);
      bytes += size;
    }
  }
  return groups;
}

/**
 * Builds our `exit_signal_proposed` for the approval-mode signals: one event, or when that would
 * pass the size limit, parts of whole proposals split exactly like `exit_signal_emitted` (the
 * idempotency key ends in `part-<n>-of-<count>`, the provenance says `part: { index, count }`).
 */
export function buildProposedEvents(
  ctx: EventContext,
  items: readonly SignalItem[],
  maxBytes = MAX_EVENT_PART_BYTES,
): ExitSignalProposedEvent[] {
  const whole = buildProposedEvent(ctx, items);
  if (Buffer.byteLength(JSON.stringify(whole)) <= maxBytes) return [whole];
  const overhead =
    Buffer.byteLength(JSON.stringify({ ...whole, data: { ...whole.data, proposals: [] } })) + 200;
  const groups = groupBySize(
    items,
    (i) => Buffer.byteLength(JSON.stringify(proposal(i, ctx))),
    overhead,
    maxBytes,
  );
  return groups.map((group, i) => buildProposedEvent(ctx, group, { index: i + 1, count: groups.length }));
}

function proposal(i: SignalItem, ctx: EventContext) {
  return {
    signal_id: i.signal_id,
    strategy_id: i.strategy_id,
    action: i.action,
    reduction_ratio: i.reduction_ratio,
    reason: i.reason,
    metrics: i.metrics,
    tags: i.tags,
    approval_deadline: i.approval?.deadline ?? ctx.now,
    default_on_timeout: i.approval?.default ?? ('drop' as const),
    four_eyes: i.approval?.four_eyes ?? false,
  };
}

/** Builds one `exit_signal_proposed` CloudEvent (a whole evaluation's proposals, or one part of them). */
export function buildProposedEvent(
  ctx: EventContext,
  items: readonly SignalItem[],
  part?: { index: number; count: number },
): ExitSignalProposedEvent {
  const base = evaluationEnvelope(EXIT_SIGNAL_PROPOSED_DETAIL_TYPE, ctx);
  const key = ctx.evaluation_key.slice(0, 16);
  const suffix = part ? `:part-${part.index}-of-${part.count}` : '';
  return {
    ...base,
    ...(part
      ? {
          id: deterministicUuid(
            EXIT_SIGNAL_PROPOSED_DETAIL_TYPE,
            ctx.evaluation_key,
            `part-${part.index}-of-${part.count}`,
          ),
        }
      : {}),
    data: {
      ...base.data,
      idempotency_key: `exit_signal_proposed:${ctx.world_id}:${ctx.snapshot_version}:${ctx.snapshot_event_version}:${key}${suffix}`,
      proposals: items.map((i) => proposal(i, ctx)),
      ...(part ? { provenance: { ...ctx.provenance, part } } : {}),
    },
  };
}

/** Who approved a proposed signal, when and why: what its published event's provenance records. */
export interface ApprovalFacts {
  approved_by: string;
  approved_at: string;
  reason: string;
  approvals: readonly { actor: string; at: string; reason: string }[];
  /** The snapshot's event_version (from the evaluation that proposed the signal). */
  snapshot_event_version: number;
  /** The evaluation's provenance (stage, rule set, snapshot hash, …), carried over. */
  evaluation_provenance: Record<string, unknown>;
  engine_version: string;
}

/**
 * Builds the upstream-exact `exit_signal_emitted` for one approved signal. Its id derives from the
 * signal id (a retried publish is the same event), and its idempotency key extends the evaluation's
 * with `approval:<strategy>`, so a gateway never mistakes it for the same evaluation's enforce-mode
 * event, nor for the approval of another strategy proposed by the same evaluation.
 */
export function buildApprovedSignalEvent(item: SignalItem, facts: ApprovalFacts): ExitSignalEvent {
  // The proposal's part number (a split exit_signal_proposed) says nothing about this event.
  const { part: _part, ...evaluationProvenance } = facts.evaluation_provenance;
  return {
    specversion: '1.0',
    id: deterministicUuid('exit_signal_emitted', 'approval', item.signal_id),
    source: EXIT_ENGINE_SOURCE,
    type: EXIT_SIGNAL_DETAIL_TYPE,
    time: facts.approved_at,
    datacontenttype: 'application/json',
    correlation_id: `exit_signal:${item.world_id}:${item.evaluation_key}`,
    data: {
      world_id: item.world_id,
      as_of: item.as_of,
      snapshot_version: item.snapshot_version,
      event_version: facts.snapshot_event_version,
      idempotency_key: exitSignalIdempotencyKey(
        item.world_id,
        item.snapshot_version,
        facts.snapshot_event_version,
        `${item.evaluation_key}:approval:${item.strategy_id}`,
      ),
      signals: [
        {
          strategy_id: item.strategy_id,
          action: item.action,
          reduction_ratio: item.reduction_ratio,
          reason: item.reason,
          metrics: item.metrics,
          tags: [
            ...item.tags,
            ...[...new Set(facts.approvals.map((a) => a.actor))].map((actor) => `approved_by:${actor}`),
          ],
        },
      ],
      provenance: {
        ...evaluationProvenance,
        actor: 'exit-engine',
        engine_version: facts.engine_version,
        trigger: 'approval',
        signal_id: item.signal_id,
        proposed_at: item.emitted_at,
        approval: {
          approved_by: facts.approved_by,
          approved_at: facts.approved_at,
          reason: facts.reason,
          approvals: facts.approvals,
          deadline: item.approval?.deadline ?? null,
          default_on_timeout: item.approval?.default ?? null,
          four_eyes: item.approval?.four_eyes ?? false,
        },
      },
    },
  };
}
