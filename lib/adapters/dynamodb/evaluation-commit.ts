import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { EvaluationInProgressError } from '#lib/engine/errors.js';
import type { EvaluationCommit } from '#lib/engine/ports.js';
import { fitAudit } from './audit-fit.js';
import { DeleteCommand, PutCommand, TransactWriteCommand, UpdateCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException, TransactionCanceledException } from './client/errors.js';
import { EpisodeLog, episodePut, lockGuard } from './episode-log.js';
import { evalSk, PENDING_OUTBOX, packOutbox, worldPk, writeChunks } from './outbox-items.js';
import { toStorable } from './storable.js';

/**
 * The evaluation commit: the claim completed with its outbox, the LATEST guard, the changed
 * episodes and the audit record in one transaction (or, for many episodes, under the world's lock:
 * episode-log.ts), mapped to a domain outcome.
 */

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** What a commit writes with: the client, the state and audit tables, and whether the backend has transactions. */
export interface CommitContext {
  doc: DynamoDocumentClient;
  tables: { state: string; audit: string };
  /** False on backends without transactions (dynalite): writes are then applied in a safe order. */
  transactions: boolean;
}

const evalKeyOf = (item: TransactItems[number]) =>
  String(item.Update?.Key?.sk ?? '').slice('EVAL#'.length, 'EVAL#'.length + 16);

/** How long evaluation claims (the dedupe window) are kept: far beyond EventBridge's 24 h retries. */
export const CLAIM_RETENTION_SEC = 30 * 86_400;
const MAX_TRANSACTION_ITEMS = 100;

/** Commits a claimed evaluation: `superseded` once a newer snapshot's evaluation has committed, `conflict` when an episode moved. */
export async function commitEvaluation(
  ctx: CommitContext,
  commit: EvaluationCommit,
): Promise<'committed' | 'conflict' | 'superseded'> {
  const pk = worldPk(commit.world_id);
  const hasEvents = commit.events.length > 0;
  const packed = hasEvents ? packOutbox(commit.events, commit.signal_items) : { chunks: [] };
  if (packed.chunks.length > 0) {
    // Before the commit: a crash here leaves orphan chunks under our owner key, never a half outbox.
    await writeChunks(
      ctx.doc,
      ctx.tables.state,
      {
        worldId: commit.world_id,
        evaluationKey: commit.evaluation_key,
        owner: commit.lease_owner,
        expiresAt: Math.floor(Date.now() / 1000) + CLAIM_RETENTION_SEC,
      },
      packed.chunks,
    );
  }
  const outboxSets = !hasEvents
    ? ''
    : ', publish_owner = :owner, publish_lease_until = :plu, outbox_pending = :pendingKey' +
      (packed.inline
        ? ', events_json = :events, signal_items_json = :items'
        : ', outbox_chunks = :chunks, outbox_owner = :owner');
  const items: TransactItems = [
    {
      Update: {
        TableName: ctx.tables.state,
        Key: { pk, sk: evalSk(commit.evaluation_key) },
        UpdateExpression: `SET #status = :done, outcome = :outcome, outbox_status = :outbox, completed_at = :at${outboxSets}`,
        ConditionExpression: '#status = :inprog AND lease_owner = :owner',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':done': 'completed',
          ':inprog': 'in_progress',
          ':owner': commit.lease_owner,
          ':outcome': commit.outcome,
          ':outbox': hasEvents ? 'pending' : 'none',
          ':at': commit.audit.recorded_at,
          ...(hasEvents
            ? {
                ':plu': commit.publish_lease_until,
                ':pendingKey': PENDING_OUTBOX,
                ...(packed.inline
                  ? { ':events': packed.inline.events_json, ':items': packed.inline.signal_items_json }
                  : { ':chunks': packed.chunks.length }),
              }
            : {}),
        },
      },
    },
  ];
  const latestCheckIndex = Number.isNaN(commit.snapshot_as_of_ms) ? -1 : items.length;
  if (latestCheckIndex >= 0) {
    // Superseded only once an evaluation of a newer snapshot has committed: a newer snapshot
    // merely arriving does not cancel this one, so a fast stream never starves a world.
    items.push({
      Update: {
        TableName: ctx.tables.state,
        Key: { pk, sk: 'LATEST' },
        UpdateExpression: 'SET evaluated_as_of_ms = :ms',
        ConditionExpression:
          'attribute_exists(as_of_ms) AND (attribute_not_exists(evaluated_as_of_ms) OR evaluated_as_of_ms <= :ms)',
        ExpressionAttributeValues: { ':ms': commit.snapshot_as_of_ms },
      },
    });
  }
  const audit: (typeof items)[number] = {
    Put: {
      TableName: ctx.tables.audit,
      Item: toStorable(fitAudit(commit.audit)),
      ConditionExpression: 'attribute_not_exists(record_id)',
    },
  };
  const lockIndex = items.length;
  if (commit.episodes.length === 0) return transact(ctx, [...items, audit], latestCheckIndex, lockIndex);
  if (items.length + 2 + commit.episodes.length > MAX_TRANSACTION_ITEMS)
    return commitLarge(ctx, commit, items, audit, latestCheckIndex);
  // Episodes change only while no large commit holds the world's lock (episode-log.ts).
  items.push(lockGuard(ctx.tables.state, commit.world_id, Date.now()));
  for (const episode of commit.episodes) items.push(episodePut(ctx.tables.state, commit.world_id, episode));
  return transact(ctx, [...items, audit], latestCheckIndex, lockIndex);
}

/**
 * More changed episodes than one transaction holds: staged under the world's lock and made
 * visible by the one transaction that also commits the claim and the outbox (episode-log.ts).
 */
async function commitLarge(
  ctx: CommitContext,
  commit: EvaluationCommit,
  head: TransactItems,
  audit: TransactItems[number],
  latestCheckIndex: number,
): Promise<'committed' | 'conflict' | 'superseded'> {
  const log = new EpisodeLog(ctx.doc, ctx.tables.state);
  const { world_id: world, evaluation_key: key, lease_owner: owner } = commit;
  if ((await log.acquire(world, key, owner)) === 'busy') return 'conflict';
  let chunks = 0;
  try {
    if (!(await log.verify(world, commit.episodes))) {
      await log.release(world, key, owner);
      return 'conflict';
    }
    const expiresAt = Math.floor(Date.now() / 1000) + CLAIM_RETENTION_SEC;
    chunks = await log.stage(world, key, owner, commit.episodes, expiresAt);
    const lockIndex = head.length;
    const result = await transact(
      ctx,
      [...head, log.commitItem(world, key, owner, chunks), audit],
      latestCheckIndex,
      lockIndex,
    );
    if (result !== 'committed') {
      await log.release(world, key, owner);
      return result;
    }
  } catch (error) {
    await log.release(world, key, owner).catch(() => undefined);
    throw error;
  }
  // Committed: from here a crash leaves the lock `committed`, finished by the next reader.
  await log.rollForward(world, { evaluation_key: key, owner, chunks });
  return 'committed';
}

/** One transaction (or, on dynalite, the same writes in a safe order), mapped to a commit outcome. */
async function transact(
  ctx: CommitContext,
  items: TransactItems,
  latestCheckIndex: number,
  lockIndex: number,
): Promise<'committed' | 'conflict' | 'superseded'> {
  if (items.length > MAX_TRANSACTION_ITEMS)
    throw new Error(`a commit of ${items.length} items passed the ${MAX_TRANSACTION_ITEMS}-item transaction`);
  if (!ctx.transactions) return commitSequentially(ctx, items, latestCheckIndex, lockIndex);
  try {
    await ctx.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'committed';
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const failed = (i: number) => reasons[i]?.Code === 'ConditionalCheckFailed';
    if (failed(0))
      throw new EvaluationInProgressError(`claim on evaluation ${evalKeyOf(items[0]!)} was taken over`);
    if (latestCheckIndex >= 0 && failed(latestCheckIndex)) return 'superseded';
    if (reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ConditionalCheckFailed'))
      return 'conflict';
    throw error;
  }
}

/** The dynalite fallback: the same writes one by one, claim last, so a crash leaves it retryable. */
async function commitSequentially(
  ctx: CommitContext,
  items: TransactItems,
  latestCheckIndex: number,
  firstEpisode: number,
): Promise<'committed' | 'conflict' | 'superseded'> {
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    try {
      if (item.Update) {
        await ctx.doc.send(new UpdateCommand(item.Update));
      } else if (item.Put) {
        await ctx.doc.send(new PutCommand(item.Put));
      } else if (item.Delete) {
        await ctx.doc.send(new DeleteCommand(item.Delete));
      }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (i === latestCheckIndex) return 'superseded';
      if (i >= firstEpisode && i < items.length - 1) return 'conflict';
      // A duplicate audit record: written by an earlier attempt of this same evaluation.
    }
  }
  const update = items[0]!.Update!;
  try {
    await ctx.doc.send(new UpdateCommand(update));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      throw new EvaluationInProgressError('claim was taken over');
    throw error;
  }
  return 'committed';
}
