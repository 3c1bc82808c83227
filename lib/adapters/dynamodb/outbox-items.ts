import { gunzipSync, gzipSync } from 'node:zlib';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { ClaimResult, EvaluationRecord, SignalItem, StuckOutbox } from '#lib/engine/ports.js';
import { fromAttributeMap } from './client/attribute-values.js';
import { PutCommand, QueryCommand, type UpdateCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException } from './client/errors.js';
import { queryAll } from './document.js';
import { toStorable } from './storable.js';
import { STATE_PENDING_OUTBOX_INDEX } from './tables.js';

/**
 * The outbox as the state table keeps it. Its body (events and signal rows) is spread over chunk
 * items written *before* the commit, under a key that names the writing owner, so a crash between
 * chunks and commit leaves only orphans (expired by TTL) and a stale owner can never overwrite the
 * chunks a commit points at. The evaluation item keeps only the outbox's state (status, publish
 * owner and lease, chunk count): DynamoDB bills an update by the size of the whole item, so the
 * publish lease, the fence and the mark as published each cost one write unit, not one per KB of
 * outbox. A chunk holds its part gzipped (`outbox_gz`): the events and the signal rows repeat the same
 * strategies, rules and metrics, so 20 signals' ~38 KB become a few KB and a few write units.
 * (Items written before these changes hold a small outbox inline, or chunks in plain JSON,
 * `events_json` / `signal_items_json`; both are still read.)
 */

/** What an evaluation item holds inline at most: nothing, the body always goes to chunk items. */
export const MAX_INLINE_OUTBOX_BYTES = 0;
/** What one chunk item holds at most. */
export const MAX_CHUNK_BYTES = 350_000;
/** The sparse index key: present only while an outbox is pending. */
export const PENDING_OUTBOX = 'PENDING';

export const worldPk = (worldId: string) => `WORLD#${worldId}`;
export const evalSk = (evaluationKey: string) => `EVAL#${evaluationKey}`;
const chunkSk = (evaluationKey: string, owner: string, n: number) =>
  `EVAL#${evaluationKey}#OUTBOX#${owner}#${String(n).padStart(4, '0')}`;

/** An outbox packed for storage: inline attributes, or the chunk items to write first. */
export interface PackedOutbox {
  inline?: { events_json: string; signal_items_json: string };
  chunks: { events_json: string; signal_items_json: string }[];
}

/** Packs events and signal rows, whole JSON values per chunk, each chunk under the item limit. */
export function packOutbox(events: readonly EngineEvent[], items: readonly SignalItem[]): PackedOutbox {
  const eventJson = events.map((e) => JSON.stringify(e));
  const itemJson = toStorable(items).map((i) => JSON.stringify(i));
  const total = [...eventJson, ...itemJson].reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
  if (total <= MAX_INLINE_OUTBOX_BYTES) {
    return {
      inline: { events_json: `[${eventJson.join(',')}]`, signal_items_json: `[${itemJson.join(',')}]` },
      chunks: [],
    };
  }
  const chunks: { events: string[]; items: string[]; bytes: number }[] = [];
  const add = (json: string, into: 'events' | 'items') => {
    const bytes = Buffer.byteLength(json) + 1;
    let last = chunks.at(-1);
    if (!last || last.bytes + bytes > MAX_CHUNK_BYTES) {
      last = { events: [], items: [], bytes: 0 };
      chunks.push(last);
    }
    last[into].push(json);
    last.bytes += bytes;
  };
  for (const e of eventJson) add(e, 'events');
  for (const i of itemJson) add(i, 'items');
  return {
    chunks: chunks.map((c) => ({
      events_json: `[${c.events.join(',')}]`,
      signal_items_json: `[${c.items.join(',')}]`,
    })),
  };
}

/** One chunk's part of the outbox, gzipped as one JSON document. */
function gzipChunk(chunk: PackedOutbox['chunks'][number]): Uint8Array {
  return gzipSync(`{"events":${chunk.events_json},"signal_items":${chunk.signal_items_json}}`);
}

/**
 * The events and signal rows an outbox item holds: a gzipped chunk, or (written before chunks were
 * compressed) plain JSON attributes; undefined for an item that holds none.
 */
export function outboxPart(
  item: Record<string, unknown>,
): { events: EngineEvent[]; signal_items: SignalItem[] } | undefined {
  if (item.outbox_gz instanceof Uint8Array) {
    const part = JSON.parse(gunzipSync(item.outbox_gz).toString('utf8')) as {
      events: EngineEvent[];
      signal_items: SignalItem[];
    };
    return { events: part.events, signal_items: part.signal_items };
  }
  if (typeof item.events_json !== 'string') return undefined;
  return {
    events: JSON.parse(item.events_json) as EngineEvent[],
    signal_items: JSON.parse(String(item.signal_items_json ?? '[]')) as SignalItem[],
  };
}

/** Writes the chunk items of an outbox (plain puts: rewriting one with the same content is harmless). */
export async function writeChunks(
  doc: DynamoDocumentClient,
  table: string,
  at: { worldId: string; evaluationKey: string; owner: string; expiresAt: number },
  chunks: PackedOutbox['chunks'],
): Promise<void> {
  await Promise.all(
    chunks.map((chunk, n) =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: worldPk(at.worldId),
            sk: chunkSk(at.evaluationKey, at.owner, n),
            world_id: at.worldId,
            outbox_gz: gzipChunk(chunk),
            expires_at: at.expiresAt,
          },
        }),
      ),
    ),
  );
}

/** The evaluation record from its item, reading the committed owner's chunks when there are any. */
export async function readEvaluation(
  doc: DynamoDocumentClient,
  table: string,
  worldId: string,
  evaluationKey: string,
  item: Record<string, unknown>,
): Promise<EvaluationRecord> {
  let events: EngineEvent[] | undefined;
  let items: SignalItem[] | undefined;
  const inline = outboxPart(item);
  if (inline) {
    events = inline.events;
    items = inline.signal_items;
  } else if (typeof item.outbox_chunks === 'number' && item.outbox_chunks > 0) {
    const owner = String(item.outbox_owner);
    const rows = await queryAll(doc, {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': worldPk(worldId),
        ':prefix': `EVAL#${evaluationKey}#OUTBOX#${owner}#`,
      },
      ConsistentRead: true,
    });
    if (rows.length !== item.outbox_chunks) {
      throw new Error(
        `outbox of evaluation ${evaluationKey.slice(0, 16)} has ${rows.length} of ${item.outbox_chunks} chunks`,
      );
    }
    const parts = rows.map((r) => {
      const part = outboxPart(r);
      if (!part) throw new Error(`outbox chunk ${String(r.sk)} holds no outbox`);
      return part;
    });
    events = parts.flatMap((p) => p.events);
    items = parts.flatMap((p) => p.signal_items);
  }
  const published = item.published_event_ids;
  return {
    evaluation_key: evaluationKey,
    world_id: worldId,
    status: item.status as EvaluationRecord['status'],
    lease_owner: item.lease_owner as string,
    lease_until: item.lease_until as number,
    ...(item.outcome !== undefined ? { outcome: item.outcome as string } : {}),
    ...(item.outbox_status !== undefined
      ? { outbox_status: item.outbox_status as EvaluationRecord['outbox_status'] }
      : {}),
    ...(events ? { events } : {}),
    ...(items ? { signal_items: items } : {}),
    ...(typeof item.publish_owner === 'string' ? { publish_owner: item.publish_owner } : {}),
    ...(typeof item.publish_lease_until === 'number'
      ? { publish_lease_until: item.publish_lease_until }
      : {}),
    ...(published instanceof Set ? { published_event_ids: [...published].map(String).sort() } : {}),
  };
}

/** The item a refused conditional write returned (ReturnValuesOnConditionCheckFailure), if any. */
export function refusedItem(error: ConditionalCheckFailedException): Record<string, unknown> | undefined {
  return error.Item ? fromAttributeMap(error.Item) : undefined;
}

/** The state the refusal saw, without a second read: outbox bodies are not needed by the caller. */
export function refusedRecord(
  worldId: string,
  evaluationKey: string,
  error: ConditionalCheckFailedException,
): ClaimResult {
  const item = refusedItem(error);
  if (!item) return { claimed: false, current: undefined };
  const { events_json: _e, signal_items_json: _s, ...rest } = item;
  return {
    claimed: false,
    current: {
      evaluation_key: evaluationKey,
      world_id: worldId,
      status: rest.status as EvaluationRecord['status'],
      lease_owner: rest.lease_owner as string,
      lease_until: rest.lease_until as number,
      ...(rest.outbox_status !== undefined
        ? { outbox_status: rest.outbox_status as EvaluationRecord['outbox_status'] }
        : {}),
      ...(typeof rest.publish_owner === 'string' ? { publish_owner: rest.publish_owner } : {}),
      ...(typeof rest.publish_lease_until === 'number'
        ? { publish_lease_until: rest.publish_lease_until }
        : {}),
    },
  };
}

/** Runs a conditional update; false when its condition failed. */
export async function conditional(doc: DynamoDocumentClient, update: UpdateCommand): Promise<boolean> {
  try {
    await doc.send(update);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Pending outboxes whose lease ended before `nowMs`, through the sparse index. */
export async function queryStuck(
  doc: DynamoDocumentClient,
  table: string,
  nowMs: number,
  limit: number,
): Promise<StuckOutbox[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      IndexName: STATE_PENDING_OUTBOX_INDEX,
      KeyConditionExpression: 'outbox_pending = :p AND publish_lease_until < :now',
      ExpressionAttributeValues: { ':p': PENDING_OUTBOX, ':now': nowMs },
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map((i) => ({
    world_id: String(i.world_id),
    evaluation_key: String(i.sk).slice('EVAL#'.length),
    publish_lease_until: Number(i.publish_lease_until),
    completed_at: String(i.completed_at ?? ''),
  }));
}
