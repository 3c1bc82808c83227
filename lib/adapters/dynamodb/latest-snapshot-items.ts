import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type SnapshotData, snapshotExpiresAt } from '#lib/contracts/risk-snapshot.js';
import type { AdvanceResult, LatestSnapshot, SnapshotHead } from '#lib/engine/ports.js';
import { joinSnapshot, keptBody, splitSnapshot } from '#lib/engine/records.js';
import { GetCommand, PutCommand, UpdateCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException } from './client/errors.js';
import { ignoringConditionFailure } from './document.js';
import { refusedItem, worldPk } from './outbox-items.js';

/**
 * The latest-snapshot record in the state table, compact: `WORLD#<id>`/`LATEST` holds the snapshot's
 * identity (head, as_of, expiry, trigger) and a pointer, `snapshot_ref`, to its body, which lives in
 * `WORLD#<id>`/`SNAPSHOT#<sha256 of the body>`, gzipped. The record is rewritten on every snapshot
 * and updated by every commit's conditional check, so it must stay small (~1 write unit); the body is
 * written only when its content changed (a hub heartbeat over the same portfolio writes none) and
 * read only by the market re-evaluation, the freshness sweep once a rule is due, and the mute catalog.
 *
 * Records written before this layout (`data_json` inline, no `snapshot_ref`) still read: their
 * snapshot comes from `data_json`, and the next snapshot's update removes it.
 */

const LATEST_SK = 'LATEST';
/** The `snapshot_ref` of an old full record: the body is the record's own `data_json`. */
const INLINE_REF = LATEST_SK;
const WORLDS_PK = 'WORLDS';
/**
 * How long a body is kept after it was (re)written. A snapshot lives at most a day (ttl_sec ≤ 86,400),
 * so a body older than this belongs to a world that has been quiet for weeks.
 */
const BODY_RETENTION_SEC = 30 * 86_400;
/** A body reused by a new snapshot is rewritten (its TTL renewed) once less than this is left. */
const BODY_RENEW_BELOW_SEC = 15 * 86_400;

const bodySk = (contentDigest: string) => `SNAPSHOT#${contentDigest}`;

/**
 * Moves the world's latest snapshot forward: reads the record (1 read unit), stops there when it is
 * not older, writes the body only if the record does not already point at the same content (with
 * enough TTL left), registers a new world, then updates the record conditionally (an older as_of
 * never wins, even against a writer that raced past the read). Each step is safe to repeat: a crash
 * leaves at most an unreferenced body (TTL) or a registered world without a record (no evaluation).
 */
export async function advanceLatest(
  doc: DynamoDocumentClient,
  table: string,
  latest: LatestSnapshot,
  data: SnapshotData,
  nowMs: number,
): Promise<AdvanceResult> {
  const key = { pk: worldPk(latest.world_id), sk: LATEST_SK };
  const current = (
    await doc.send(
      new GetCommand({
        TableName: table,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'as_of_ms, #version, snapshot_ref, body_expires_at, body_kept',
        ExpressionAttributeNames: { '#version': 'version' },
      }),
    )
  ).Item;
  if (current && !(Number(current.as_of_ms) < latest.as_of_ms)) return sameOrOlder(current, latest);

  // Only what the rule set's later evaluations of this snapshot read (engine/snapshot-reuse.ts).
  const bodyJson = JSON.stringify(keptBody(data, latest.body_kept));
  const ref = bodySk(createHash('sha256').update(bodyJson).digest('hex'));
  const nowSec = Math.floor(nowMs / 1000);
  const reuse =
    current?.snapshot_ref === ref && Number(current.body_expires_at ?? 0) - nowSec > BODY_RENEW_BELOW_SEC;
  const bodyExpiresAt = reuse ? Number(current.body_expires_at) : nowSec + BODY_RETENTION_SEC;
  if (!reuse) {
    // A plain put: the key is the content, so writing it again writes the same thing.
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...key, sk: ref, body: gzipSync(bodyJson), expires_at: bodyExpiresAt },
      }),
    );
  }
  // The world registry market events fan out over holds what each record keeps (registerWorld).
  // Written before the record when the world is new or what it keeps changes: a crash between the
  // two leaves a world without a record (it evaluates nothing) or an entry ahead of its record (the
  // retry writes both), never a record missing from the registry or kept unlisted.
  const registered = !current || current.body_kept !== latest.body_kept;
  if (registered) await registerWorld(doc, table, latest.world_id, latest);
  let replaced: Record<string, unknown> | undefined;
  try {
    // An update, not a put: the record's `evaluated_as_of_ms` (the liveness guard) survives.
    const out = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression:
          'SET world_id = :w, as_of = :asof, as_of_ms = :ms, #version = :v, trigger_key = :t, source_event_id = :s, ' +
          'expires_at_ms = :exp, head_json = :head, snapshot_ref = :ref, body_expires_at = :bexp' +
          (latest.body_kept ? ', body_kept = :kept REMOVE data_json' : ' REMOVE data_json, body_kept'),
        ConditionExpression: 'attribute_not_exists(as_of_ms) OR as_of_ms < :ms',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: {
          ':w': latest.world_id,
          ':asof': latest.as_of,
          ':ms': latest.as_of_ms,
          ':v': latest.version,
          ':t': latest.trigger_key,
          ':s': latest.source_event_id,
          ':exp': latest.expires_at_ms,
          ':head': JSON.stringify(latest.head),
          ':ref': ref,
          ':bexp': bodyExpiresAt,
          ...(latest.body_kept ? { ':kept': latest.body_kept } : {}),
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    replaced = out.Attributes;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // dynalite does not return the refused item; read it there.
    const raced = refusedItem(error) ?? (await readLatest(doc, table, latest.world_id));
    // A newer snapshot won the record after we registered: the registry says what it keeps.
    if (registered && raced && typeof raced.as_of_ms === 'number')
      await registerWorld(
        doc,
        table,
        latest.world_id,
        raced as Pick<LatestSnapshot, 'as_of_ms' | 'body_kept'>,
      );
    return raced ? sameOrOlder(raced, latest) : 'older';
  }
  // The record moved between our read and our update, to one that keeps something else.
  if (!registered && replaced && replaced.body_kept !== latest.body_kept)
    await registerWorld(doc, table, latest.world_id, latest);
  return 'advanced';
}

/**
 * The registry entry `WORLDS`/<world id>: what the world's record keeps (`body_kept`, absent: whole)
 * and the as_of of the record it describes, so that a slower writer of an older snapshot never
 * overwrites what a newer one registered. A few dozen bytes: every fan-out reads them all (the world
 * id is the sort key, not repeated in an attribute). Kept in step with the record by the three writes
 * in advanceLatest: before a change, after a record that moved under us, and back to the winner's
 * after we registered and lost.
 */
async function registerWorld(
  doc: DynamoDocumentClient,
  table: string,
  worldId: string,
  record: Pick<LatestSnapshot, 'as_of_ms' | 'body_kept'>,
): Promise<void> {
  await ignoringConditionFailure(() =>
    doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: WORLDS_PK,
          sk: worldId,
          as_of_ms: record.as_of_ms,
          ...(record.body_kept ? { body_kept: record.body_kept } : {}),
        },
        ConditionExpression: 'attribute_not_exists(as_of_ms) OR as_of_ms <= :ms',
        ExpressionAttributeValues: { ':ms': record.as_of_ms },
      }),
    ),
  );
}

function sameOrOlder(
  current: { as_of_ms?: unknown; version?: unknown },
  latest: LatestSnapshot,
): AdvanceResult {
  return Number(current.as_of_ms) === latest.as_of_ms && current.version === latest.version
    ? 'same'
    : 'older';
}

/** The compact record, from either layout (an old full record's head comes from its `data_json`). */
export async function readLatest(
  doc: DynamoDocumentClient,
  table: string,
  worldId: string,
): Promise<LatestSnapshot | undefined> {
  const out = await doc.send(
    new GetCommand({
      TableName: table,
      Key: { pk: worldPk(worldId), sk: LATEST_SK },
      ConsistentRead: true,
    }),
  );
  const item = out.Item;
  if (!item || typeof item.as_of_ms !== 'number') return undefined;
  const legacy = typeof item.head_json !== 'string';
  const head: SnapshotHead = legacy
    ? splitSnapshot(JSON.parse(String(item.data_json)) as SnapshotData).head
    : (JSON.parse(item.head_json) as SnapshotHead);
  return {
    world_id: worldId,
    as_of: item.as_of,
    as_of_ms: item.as_of_ms,
    version: item.version,
    trigger_key: item.trigger_key,
    source_event_id: item.source_event_id,
    expires_at_ms: typeof item.expires_at_ms === 'number' ? item.expires_at_ms : snapshotExpiresAt(head),
    head,
    snapshot_ref: legacy ? INLINE_REF : String(item.snapshot_ref),
    ...(item.body_kept === 'weights' || item.body_kept === 'positions' ? { body_kept: item.body_kept } : {}),
    ...(typeof item.evaluated_as_of_ms === 'number' ? { evaluated_as_of_ms: item.evaluated_as_of_ms } : {}),
  };
}

/**
 * The snapshot a record names: its head joined with the body it points at, whole or the `positions`
 * projection (only the weights kept: undefined).
 */
export async function readSnapshotData(
  doc: DynamoDocumentClient,
  table: string,
  latest: LatestSnapshot,
): Promise<SnapshotData | undefined> {
  if (latest.body_kept === 'weights') return undefined;
  return readKept(doc, table, latest);
}

/** The weights of the snapshot a record names, from whichever body was kept. */
export async function readSnapshotWeights(
  doc: DynamoDocumentClient,
  table: string,
  latest: LatestSnapshot,
): Promise<SnapshotData['weights'] | undefined> {
  return (await readKept(doc, table, latest))?.weights;
}

/** The head joined with the body the record points at, whole or a projection. */
async function readKept(
  doc: DynamoDocumentClient,
  table: string,
  latest: LatestSnapshot,
): Promise<SnapshotData | undefined> {
  const ref = latest.snapshot_ref;
  if (!ref) return undefined;
  const out = await doc.send(
    new GetCommand({
      TableName: table,
      Key: { pk: worldPk(latest.world_id), sk: ref },
      ConsistentRead: true,
    }),
  );
  const item = out.Item;
  if (!item) return undefined;
  if (ref === INLINE_REF) {
    // An old full record: its data, unless the world has moved on since `latest` was read.
    if (item.as_of_ms !== latest.as_of_ms || item.version !== latest.version || !item.data_json)
      return undefined;
    return JSON.parse(String(item.data_json)) as SnapshotData;
  }
  const body = JSON.parse(gunzipSync(item.body as Uint8Array).toString('utf8')) as Record<string, unknown>;
  return joinSnapshot(latest.head, body);
}
