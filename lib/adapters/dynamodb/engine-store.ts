import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { EvaluationInProgressError, RecordTooLargeError } from '#lib/engine/errors.js';
import { type ApprovedCut, activeMutes, isApprovedCut, type Mute } from '#lib/engine/evaluate.js';
import type {
  AdvanceResult,
  AuditRecord,
  ClaimResult,
  EngineStore,
  EvaluationCommit,
  EvaluationRecord,
  LatestSnapshot,
  SignalItem,
  StuckOutbox,
} from '#lib/engine/ports.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { fitAudit } from './audit-fit.js';
import { auditPut, documentClient, ignoringConditionFailure, queryAll } from './document.js';
import { EpisodeLog, episodePut, lockGuard } from './episode-log.js';
import { advanceLatest, readLatest, readSnapshotData } from './latest-snapshot-items.js';
import {
  conditional,
  evalSk,
  PENDING_OUTBOX,
  packOutbox,
  queryStuck,
  readEvaluation,
  refusedRecord,
  worldPk,
  writeChunks,
} from './outbox-items.js';
import { toStorable } from './storable.js';
import { SIGNALS_BY_WORLD_INDEX } from './tables.js';

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

const evalKeyOf = (item: TransactItems[number]) =>
  String(item.Update?.Key?.sk ?? '').slice('EVAL#'.length, 'EVAL#'.length + 16);

export interface TableNames {
  signals: string;
  state: string;
  audit: string;
}

/** How long evaluation claims (the dedupe window) are kept: far beyond EventBridge's 24 h retries. */
const CLAIM_RETENTION_SEC = 30 * 86_400;
const MAX_TRANSACTION_ITEMS = 100;

const WORLDS_PK = 'WORLDS';
const marketPk = (scope: string) => `MARKET#${scope}`;

/**
 * The engine's store over the three tables. Every dedupe is a conditional write mapped to a domain
 * outcome (STYLE 4); the evaluation commit is one transaction so episodes, the audit record and
 * the outbox move together.
 */
export class DynamoDbEngineStore implements EngineStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: TableNames,
    /** False on backends without transactions (dynalite): writes are then applied in a safe order. */
    private readonly transactions = true,
  ) {
    this.doc = documentClient(client);
  }

  async getEvaluation(worldId: string, evaluationKey: string): Promise<EvaluationRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
        ConsistentRead: true,
      }),
    );
    return out.Item
      ? readEvaluation(this.doc, this.tables.state, worldId, evaluationKey, out.Item)
      : undefined;
  }

  advanceLatestSnapshot(latest: LatestSnapshot, data: SnapshotData): Promise<AdvanceResult> {
    return advanceLatest(this.doc, this.tables.state, latest, data, Date.now());
  }

  getLatestSnapshot(worldId: string): Promise<LatestSnapshot | undefined> {
    return readLatest(this.doc, this.tables.state, worldId);
  }

  getSnapshotData(latest: LatestSnapshot): Promise<SnapshotData | undefined> {
    return readSnapshotData(this.doc, this.tables.state, latest);
  }

  async listWorlds(): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tables.state,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': WORLDS_PK },
    });
    return items.map((i) => String(i.sk)).sort();
  }

  async claimEvaluation(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<ClaimResult> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.state,
          Item: {
            pk: worldPk(worldId),
            sk: evalSk(evaluationKey),
            world_id: worldId,
            status: 'in_progress',
            lease_owner: owner,
            lease_until: leaseUntilMs,
            claimed_at: new Date(nowMs).toISOString(),
            expires_at: Math.floor(nowMs / 1000) + CLAIM_RETENTION_SEC,
          },
          // A claim whose holder crashed is taken over once its lease has run out, never before.
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :inprog AND lease_until < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inprog': 'in_progress', ':now': nowMs },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return this.refused(worldId, evaluationKey, error);
      throw error;
    }
  }

  /** The refused record from the failed write itself; dynalite does not return it, so read it there. */
  private async refused(
    worldId: string,
    evaluationKey: string,
    error: ConditionalCheckFailedException,
  ): Promise<ClaimResult> {
    const refused = refusedRecord(worldId, evaluationKey, error);
    if (refused.claimed || refused.current) return refused;
    return { claimed: false, current: await this.getEvaluation(worldId, evaluationKey) };
  }

  async loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>> {
    // A large commit decided but not yet rolled forward is finished first (episode-log.ts); a lock
    // merely held changes nothing a reader sees.
    await new EpisodeLog(this.doc, this.tables.state).rollForwardIfCommitted(worldId);
    const items = await queryAll(this.doc, {
      TableName: this.tables.state,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': 'EPISODE#' },
      ConsistentRead: true,
    });
    const map = new Map<string, EpisodeState>();
    for (const item of items) {
      const { pk: _pk, sk, world_id: _w, ...state } = item;
      map.set(String(sk).slice('EPISODE#'.length), state as unknown as EpisodeState);
    }
    return map;
  }

  async loadMutes(worldId: string): Promise<Mute[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tables.state,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': 'MUTE#' },
      ConsistentRead: true,
    });
    return activeMutes(items as unknown as (Mute & { ended_at?: string })[]);
  }

  async loadApprovedCuts(worldId: string, since: string): Promise<ApprovedCut[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tables.signals,
      IndexName: SIGNALS_BY_WORLD_INDEX,
      KeyConditionExpression: 'world_id = :w AND emitted_at >= :since',
      FilterExpression: '#mode = :approval',
      ExpressionAttributeNames: { '#mode': 'mode' },
      ExpressionAttributeValues: { ':w': worldId, ':since': since, ':approval': 'approval' },
    });
    return items
      .filter((i) => isApprovedCut(i as { mode: string; status: string; action: string }))
      .map((i) => ({
        strategy_id: String(i.strategy_id),
        rule_ids: [...((i.rule_ids as Iterable<string> | undefined) ?? [])],
        emitted_at: String(i.emitted_at),
      }));
  }

  async commitEvaluation(commit: EvaluationCommit): Promise<'committed' | 'conflict' | 'superseded'> {
    const pk = worldPk(commit.world_id);
    const hasEvents = commit.events.length > 0;
    const packed = hasEvents ? packOutbox(commit.events, commit.signal_items) : { chunks: [] };
    if (packed.chunks.length > 0) {
      // Before the commit: a crash here leaves orphan chunks under our owner key, never a half outbox.
      await writeChunks(
        this.doc,
        this.tables.state,
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
          TableName: this.tables.state,
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
          TableName: this.tables.state,
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
        TableName: this.tables.audit,
        Item: toStorable(fitAudit(commit.audit)),
        ConditionExpression: 'attribute_not_exists(record_id)',
      },
    };
    const lockIndex = items.length;
    if (commit.episodes.length === 0) return this.transact([...items, audit], latestCheckIndex, lockIndex);
    if (items.length + 2 + commit.episodes.length > MAX_TRANSACTION_ITEMS)
      return this.commitLarge(commit, items, audit, latestCheckIndex);
    // Episodes change only while no large commit holds the world's lock (episode-log.ts).
    items.push(lockGuard(this.tables.state, commit.world_id, Date.now()));
    for (const episode of commit.episodes)
      items.push(episodePut(this.tables.state, commit.world_id, episode));
    return this.transact([...items, audit], latestCheckIndex, lockIndex);
  }

  /**
   * More changed episodes than one transaction holds: staged under the world's lock and made
   * visible by the one transaction that also commits the claim and the outbox (episode-log.ts).
   */
  private async commitLarge(
    commit: EvaluationCommit,
    head: TransactItems,
    audit: TransactItems[number],
    latestCheckIndex: number,
  ): Promise<'committed' | 'conflict' | 'superseded'> {
    const log = new EpisodeLog(this.doc, this.tables.state);
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
      const result = await this.transact(
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
  private async transact(
    items: TransactItems,
    latestCheckIndex: number,
    lockIndex: number,
  ): Promise<'committed' | 'conflict' | 'superseded'> {
    if (items.length > MAX_TRANSACTION_ITEMS)
      throw new Error(
        `a commit of ${items.length} items passed the ${MAX_TRANSACTION_ITEMS}-item transaction`,
      );
    if (!this.transactions) return this.commitSequentially(items, latestCheckIndex, lockIndex);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
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
  private async commitSequentially(
    items: TransactItems,
    latestCheckIndex: number,
    firstEpisode: number,
  ): Promise<'committed' | 'conflict' | 'superseded'> {
    for (let i = 1; i < items.length; i++) {
      const item = items[i]!;
      try {
        if (item.Update) {
          await this.doc.send(new UpdateCommand(item.Update));
        } else if (item.Put) {
          await this.doc.send(new PutCommand(item.Put));
        } else if (item.Delete) {
          await this.doc.send(new DeleteCommand(item.Delete));
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
      await this.doc.send(new UpdateCommand(update));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new EvaluationInProgressError('claim was taken over');
      throw error;
    }
    return 'committed';
  }

  async acquirePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<ClaimResult> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.state,
          Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
          UpdateExpression: 'SET publish_owner = :owner, publish_lease_until = :until',
          ConditionExpression:
            'outbox_status = :pending AND (attribute_not_exists(publish_lease_until) OR publish_lease_until < :now)',
          ExpressionAttributeValues: {
            ':owner': owner,
            ':until': leaseUntilMs,
            ':pending': 'pending',
            ':now': nowMs,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return this.refused(worldId, evaluationKey, error);
      throw error;
    }
  }

  fencePublish(worldId: string, evaluationKey: string, owner: string, holdUntilMs: number): Promise<boolean> {
    return conditional(
      this.doc,
      new UpdateCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
        UpdateExpression: 'ADD publish_attempts :one',
        ConditionExpression:
          'outbox_status = :pending AND publish_owner = :owner AND publish_lease_until >= :hold',
        ExpressionAttributeValues: {
          ':one': 1,
          ':pending': 'pending',
          ':owner': owner,
          ':hold': holdUntilMs,
        },
      }),
    );
  }

  async releaseClaim(worldId: string, evaluationKey: string, owner: string): Promise<void> {
    await conditional(
      this.doc,
      new UpdateCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
        UpdateExpression: 'SET lease_until = :zero',
        ConditionExpression: '#status = :inprog AND lease_owner = :owner',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':zero': 0, ':inprog': 'in_progress', ':owner': owner },
      }),
    );
  }

  async releasePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    publishedEventIds: readonly string[] = [],
  ): Promise<void> {
    await conditional(
      this.doc,
      new UpdateCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
        UpdateExpression:
          'SET publish_lease_until = :zero' +
          (publishedEventIds.length > 0 ? ' ADD published_event_ids :ids' : ''),
        ConditionExpression: 'publish_owner = :owner AND outbox_status = :pending',
        ExpressionAttributeValues: {
          ':zero': 0,
          ':owner': owner,
          ':pending': 'pending',
          ...(publishedEventIds.length > 0 ? { ':ids': new Set(publishedEventIds) } : {}),
        },
      }),
    );
  }

  listStuckOutboxes(nowMs: number, limit: number): Promise<StuckOutbox[]> {
    return queryStuck(this.doc, this.tables.state, nowMs, limit);
  }

  async putSignals(items: readonly SignalItem[]): Promise<void> {
    await Promise.all(
      items.map(async (item) => {
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.tables.signals,
              Item: toStorable(item),
              ConditionExpression: 'attribute_not_exists(signal_id)',
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  async markPublished(
    worldId: string,
    evaluationKey: string,
    signalIds: readonly string[],
    publishedAt: string,
  ): Promise<void> {
    await Promise.all(
      signalIds.map(async (signalId) => {
        try {
          await this.doc.send(
            new UpdateCommand({
              TableName: this.tables.signals,
              Key: { signal_id: signalId },
              UpdateExpression: 'SET #status = :published, published_at = :at',
              ConditionExpression: '#status = :pending',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':published': 'published',
                ':pending': 'pending_publish',
                ':at': publishedAt,
              },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: evalSk(evaluationKey) },
        // Leaving the sparse index is what makes the sweeper stop looking at it.
        UpdateExpression: 'SET outbox_status = :published, published_at = :at REMOVE outbox_pending',
        ExpressionAttributeValues: { ':published': 'published', ':at': publishedAt },
      }),
    );
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    try {
      await ignoringConditionFailure(() =>
        this.doc.send(new PutCommand(auditPut(this.tables.audit, record))),
      );
    } catch (error) {
      // Item over 400 KB, or a key over its limit: the caller writes a smaller record instead.
      if ((error as Error).name === 'ValidationException')
        throw new RecordTooLargeError(`audit record refused: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  async putMarket(view: MarketScopeView & { source_event_id: string }): Promise<AdvanceResult> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.state,
          Item: {
            pk: marketPk(view.scope),
            sk: 'LATEST',
            scope: view.scope,
            as_of: view.as_of,
            as_of_ms: view.asOfMs,
            source_event_id: view.source_event_id,
            indicators_json: JSON.stringify(view.indicators),
            series_json: JSON.stringify(view.series),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR as_of_ms < :ms',
          ExpressionAttributeValues: { ':ms': view.asOfMs },
        }),
      );
      return 'advanced';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const got = await this.doc.send(
        new GetCommand({
          TableName: this.tables.state,
          Key: { pk: marketPk(view.scope), sk: 'LATEST' },
          ConsistentRead: true,
        }),
      );
      return got.Item?.as_of_ms === view.asOfMs && got.Item?.source_event_id === view.source_event_id
        ? 'same'
        : 'older';
    }
  }

  async loadMarket(scopes: readonly string[]): Promise<Map<string, MarketScopeView>> {
    const map = new Map<string, MarketScopeView>();
    await Promise.all(
      scopes.map(async (scope) => {
        const got = await this.doc.send(
          new GetCommand({
            TableName: this.tables.state,
            Key: { pk: marketPk(scope), sk: 'LATEST' },
            ConsistentRead: true,
          }),
        );
        const item = got.Item;
        if (!item) return;
        map.set(scope, {
          scope,
          as_of: item.as_of,
          asOfMs: item.as_of_ms,
          indicators: JSON.parse(item.indicators_json),
          series: JSON.parse(item.series_json),
        });
      }),
    );
    return map;
  }
}
