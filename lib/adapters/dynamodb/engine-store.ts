import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { RecordTooLargeError } from '#lib/engine/errors.js';
import type { ApprovedCut, Mute } from '#lib/engine/evaluate.js';
import type {
  AdvanceResult,
  AuditRecord,
  ClaimResult,
  EngineStore,
  EvaluationCommit,
  EvaluationRecord,
  LatestSnapshot,
  ListedWorld,
  SignalItem,
  StuckOutbox,
} from '#lib/engine/ports.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { GetCommand, PutCommand, UpdateCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException } from './client/errors.js';
import { auditPut, ignoringConditionFailure } from './document.js';
import { CLAIM_RETENTION_SEC, commitEvaluation } from './evaluation-commit.js';
import { advanceLatest, readLatest, readSnapshotData, readSnapshotWeights } from './latest-snapshot-items.js';
import { loadMarket, putMarket } from './market-items.js';
import { conditional, evalSk, queryStuck, readEvaluation, refusedRecord, worldPk } from './outbox-items.js';
import { statusCondition, toStoredRow } from './signal-rows.js';
import { toStorable } from './storable.js';
import { listWorlds, listWorldsForMarket, loadApprovedCuts, loadEpisodes, loadMutes } from './world-reads.js';

export interface TableNames {
  signals: string;
  state: string;
  audit: string;
}

/**
 * The engine's store over the three tables. Every dedupe is a conditional write mapped to a domain
 * outcome (STYLE 4); the evaluation commit is one transaction so episodes, the audit record and
 * the outbox move together.
 */
export class DynamoDbEngineStore implements EngineStore {
  constructor(
    private readonly doc: DynamoDocumentClient,
    private readonly tables: TableNames,
    /** False on backends without transactions (dynalite): writes are then applied in a safe order. */
    private readonly transactions = true,
  ) {}

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

  getSnapshotWeights(latest: LatestSnapshot): Promise<SnapshotData['weights'] | undefined> {
    return readSnapshotWeights(this.doc, this.tables.state, latest);
  }

  listWorlds(): Promise<string[]> {
    return listWorlds(this.doc, this.tables.state);
  }

  listWorldsForMarket(): Promise<ListedWorld[]> {
    return listWorldsForMarket(this.doc, this.tables.state);
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

  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>> {
    return loadEpisodes(this.doc, this.tables.state, worldId);
  }

  loadMutes(worldId: string): Promise<Mute[]> {
    return loadMutes(this.doc, this.tables.state, worldId);
  }

  loadApprovedCuts(worldId: string, since: string): Promise<ApprovedCut[]> {
    return loadApprovedCuts(this.doc, this.tables, worldId, since);
  }

  commitEvaluation(commit: EvaluationCommit): Promise<'committed' | 'conflict' | 'superseded'> {
    return commitEvaluation({ doc: this.doc, tables: this.tables, transactions: this.transactions }, commit);
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
              Item: toStoredRow(toStorable(item)),
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
    items: readonly SignalItem[],
    publishedAt: string,
  ): Promise<void> {
    // Each row is written once, already published: a published row is in the by-world index only
    // (signal-rows.ts), so it costs 2 write units to create; moving it from a pending status would cost more.
    const pending = statusCondition('pending_publish');
    await Promise.all(
      items.map(async (item) => {
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.tables.signals,
              Item: toStoredRow(
                toStorable({ ...item, status: 'published' as const, published_at: publishedAt }),
              ),
              ConditionExpression: `attribute_not_exists(signal_id) OR ${pending.expression}`,
              ExpressionAttributeNames: pending.names,
              ExpressionAttributeValues: pending.values,
            }),
          );
        } catch (error) {
          // Written by an earlier attempt of this publish (or decided since): left as it is.
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

  putMarket(view: MarketScopeView & { source_event_id: string }): Promise<AdvanceResult> {
    return putMarket(this.doc, this.tables.state, view);
  }

  loadMarket(scopes: readonly string[]): Promise<Map<string, MarketScopeView>> {
    return loadMarket(this.doc, this.tables.state, scopes);
  }
}
