import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { EpisodeState } from '#lib/engine/episodes.js';
import type {
  AuditRecord,
  MuteRecord,
  OpsSignalItem,
  OpsStore,
  SignalItem,
  SignalQuery,
  SignalTransition,
} from '#lib/engine/ports.js';
import { approvedCutPut } from './approved-cut-items.js';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException, TransactionCanceledException } from './client/errors.js';
import { auditPut, queryAll, scanAll } from './document.js';
import type { TableNames } from './engine-store.js';
import { outboxPart } from './outbox-items.js';
import { fromStoredRow, isIndexedStatus, statusCondition, statusUpdate } from './signal-rows.js';
import { toStorable } from './storable.js';
import { SIGNALS_BY_STATUS_INDEX, SIGNALS_BY_WORLD_INDEX } from './tables.js';
import { loadEpisodes } from './world-reads.js';

const worldPk = (worldId: string) => `WORLD#${worldId}`;
const MUTE_PREFIX = 'MUTE#';
/**
 * A mute awaiting its second approver. Its own prefix (not `MUTE#…`), so the engine's mute reads never see
 * it: a request silences nothing until it is approved.
 */
const MUTE_REQUEST_PREFIX = 'MUTEREQ#';

/**
 * Whether a cancelled transaction failed only on the conditions of the given items (a real "already
 * exists" / "moved on"); a throttle, a conflict with another transaction or a validation error is not
 * that, and is rethrown for the caller to retry or report.
 */
export function cancelledByConditions(
  error: TransactionCanceledException,
  items: readonly number[],
): boolean {
  const reasons = error.CancellationReasons ?? [];
  const failed = reasons.map((r, i) => ({ code: r.Code ?? 'None', i })).filter((r) => r.code !== 'None');
  return failed.length > 0 && failed.every((r) => r.code === 'ConditionalCheckFailed' && items.includes(r.i));
}
/** An ended or expired mute stays readable this long (state-table TTL), then DynamoDB removes it. */
const MUTE_RETENTION_SEC = 90 * 86_400;

/** Reads a signal row back (either status layout), turning the stored event JSON into the event. */
function toSignal(item: Record<string, unknown>): OpsSignalItem {
  const { approved_event_json, ...rest } = fromStoredRow(item);
  return {
    ...(rest as unknown as OpsSignalItem),
    ...(typeof approved_event_json === 'string'
      ? { approved_event: JSON.parse(approved_event_json) as EngineEvent }
      : {}),
  };
}

function toMute(item: Record<string, unknown>): MuteRecord {
  const { pk: _pk, sk: _sk, expires_at: _e, ...rest } = item;
  return rest as unknown as MuteRecord;
}

/**
 * The ops store over the engine's tables: signal decisions are conditional updates on `status`
 * (with the audit record in the same transaction, so no decision goes unaudited), mutes are
 * state-table items, the audit trail is append-only.
 */
export class DynamoDbOpsStore implements OpsStore {
  constructor(
    private readonly doc: DynamoDocumentClient,
    private readonly tables: TableNames,
    /** False on backends without transactions (dynalite): the change, then its audit record. */
    private readonly transactions = true,
  ) {}

  async getSignal(signalId: string): Promise<OpsSignalItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tables.signals, Key: { signal_id: signalId }, ConsistentRead: true }),
    );
    return out.Item ? toSignal(out.Item) : undefined;
  }

  async listSignals(q: SignalQuery): Promise<OpsSignalItem[]> {
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = {};
    const filters: string[] = [];
    if (q.status !== undefined) {
      // A closed status is not in the by-status index (signal-rows.ts): its rows are found by world, or
      // by a scan; the filter matches either attribute, so rows an older version wrote match too.
      const status = statusCondition(q.status);
      filters.push(status.expression);
      Object.assign(names, status.names);
      Object.assign(values, status.values);
    }
    const since = q.since ? 'emitted_at >= :since' : undefined;
    if (q.since) values[':since'] = q.since;
    const expressionParts = () => ({
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    });
    let items: Record<string, unknown>[];
    if (q.world_id !== undefined || (q.status !== undefined && isIndexedStatus(q.status))) {
      const byWorld = q.world_id !== undefined;
      if (byWorld) values[':k'] = q.world_id;
      const key = byWorld ? 'world_id = :k' : statusCondition(q.status!).expression;
      items = await queryAll(
        this.doc,
        {
          TableName: this.tables.signals,
          IndexName: byWorld ? SIGNALS_BY_WORLD_INDEX : SIGNALS_BY_STATUS_INDEX,
          KeyConditionExpression: since ? `${key} AND ${since}` : key,
          ...(byWorld && filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ...expressionParts(),
          ScanIndexForward: false,
        },
        q.limit,
      );
    } else {
      // No world and no open status: a scan (an ops listing of a closed status across every world).
      if (since) filters.push(since);
      items = await scanAll(
        this.doc,
        {
          TableName: this.tables.signals,
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ...expressionParts() } : {}),
        },
        undefined,
      );
      items.sort((a, b) => String(b.emitted_at).localeCompare(String(a.emitted_at)));
      if (q.limit !== undefined) items = items.slice(0, q.limit);
    }
    return items.map(toSignal);
  }

  async transitionSignal(t: SignalTransition): Promise<boolean> {
    const from = statusCondition(t.from);
    const names: Record<string, string> = { ...from.names };
    const values: Record<string, unknown> = { ...from.values };
    const sets: string[] = [];
    const removes: string[] = [];
    if (t.set.status !== undefined) {
      // A closed status leaves the by-status index (status → final_status), an open one stays in it.
      const to = statusUpdate(t.set.status);
      sets.push(...to.set);
      removes.push(...to.remove);
      Object.assign(names, to.names);
      Object.assign(values, to.values);
    }
    Object.entries(t.set).forEach(([key, value], i) => {
      if (value === undefined || key === 'status') return;
      const attr = key === 'approved_event' ? 'approved_event_json' : key;
      names[`#a${i}`] = attr;
      values[`:v${i}`] = key === 'approved_event' ? JSON.stringify(value) : toStorable(value);
      sets.push(`#a${i} = :v${i}`);
    });
    const conditions = [from.expression];
    if (t.approvals_count !== undefined) {
      names['#approvals'] = 'approvals';
      values[':n'] = t.approvals_count;
      conditions.push(
        t.approvals_count === 0
          ? '(attribute_not_exists(#approvals) OR size(#approvals) = :n)'
          : 'size(#approvals) = :n',
      );
    }
    if (t.lease_free_at !== undefined) {
      names['#lease'] = 'publish_lease_until';
      values[':now'] = t.lease_free_at;
      conditions.push('(attribute_not_exists(#lease) OR #lease < :now)');
    }
    const update: UpdateCommandInput = {
      TableName: this.tables.signals,
      Key: { signal_id: t.signal_id },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    const marker = t.approved_cut && approvedCutPut(this.tables.state, t.signal_id, t.approved_cut);
    return this.changeWithAudit(update, t.audit, marker);
  }

  async proposalContext(
    signal: Pick<SignalItem, 'world_id' | 'evaluation_key' | 'signal_id'>,
  ): Promise<{ event_version: number; provenance: Record<string, unknown> } | undefined> {
    // The signal row keeps a 16-digit prefix of the evaluation key; the outbox item's key starts with it.
    const items = await queryAll(this.doc, {
      TableName: this.tables.state,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': worldPk(signal.world_id),
        ':prefix': `EVAL#${signal.evaluation_key}`,
      },
      ConsistentRead: true,
    });
    for (const item of items) {
      const events = outboxPart(item)?.events;
      if (!events) continue;
      const proposed =
        events.find(
          (e) =>
            e.type === 'exit_signal_proposed' &&
            e.data.proposals.some((p) => p.signal_id === signal.signal_id),
        ) ?? events[0];
      if (proposed) {
        return { event_version: proposed.data.event_version, provenance: proposed.data.provenance ?? {} };
      }
    }
    return undefined;
  }

  async putMute(mute: MuteRecord, audit: AuditRecord): Promise<boolean> {
    return this.createOnce(this.mutePut(mute, MUTE_PREFIX), audit);
  }

  async putMuteRequest(request: MuteRecord, audit: AuditRecord): Promise<boolean> {
    return this.createOnce(this.mutePut(request, MUTE_REQUEST_PREFIX), audit);
  }

  async getMuteRequest(worldId: string, muteId: string): Promise<MuteRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: `${MUTE_REQUEST_PREFIX}${muteId}` },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toMute(out.Item) : undefined;
  }

  async activateMuteRequest(mute: MuteRecord, audit: AuditRecord): Promise<boolean> {
    const put = this.mutePut(mute, MUTE_PREFIX);
    const remove = {
      TableName: this.tables.state,
      Key: { pk: worldPk(mute.world_id), sk: `${MUTE_REQUEST_PREFIX}${mute.mute_id}` },
      ConditionExpression: 'attribute_exists(sk)',
    };
    if (this.transactions) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [{ Delete: remove }, { Put: put }, { Put: auditPut(this.tables.audit, audit) }],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException && cancelledByConditions(error, [0, 1]))
          return false;
        throw error;
      }
    }
    // Without transactions: the mute first (conditional), so a crash leaves an active mute and a stale request.
    try {
      await this.doc.send(new PutCommand(put));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.doc.send(new DeleteCommand({ TableName: remove.TableName, Key: remove.Key }));
    await this.appendAudit(audit);
    return true;
  }

  private mutePut(mute: MuteRecord, prefix: string) {
    return {
      TableName: this.tables.state,
      Item: toStorable({
        pk: worldPk(mute.world_id),
        sk: `${prefix}${mute.mute_id}`,
        ...mute,
        expires_at: Math.floor(Date.parse(mute.until) / 1000) + MUTE_RETENTION_SEC,
      }),
      ConditionExpression: 'attribute_not_exists(sk)',
    };
  }

  /** A conditional create and its audit record; false only when the item exists already. */
  private async createOnce(
    put: ReturnType<DynamoDbOpsStore['mutePut']>,
    audit: AuditRecord,
  ): Promise<boolean> {
    if (this.transactions) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: put }, { Put: auditPut(this.tables.audit, audit) }],
          }),
        );
        return true;
      } catch (error) {
        // Only the mute's own condition means "exists already"; a throttle or a transaction conflict is
        // not a stored mute and must not be reported as one.
        if (error instanceof TransactionCanceledException && cancelledByConditions(error, [0])) return false;
        throw error;
      }
    }
    try {
      await this.doc.send(new PutCommand(put));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.appendAudit(audit);
    return true;
  }

  async getMute(worldId: string, muteId: string): Promise<MuteRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: `${MUTE_PREFIX}${muteId}` },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toMute(out.Item) : undefined;
  }

  async endMute(
    worldId: string,
    muteId: string,
    end: { ended_at: string; ended_by: string; end_reason: string },
    audit: AuditRecord,
  ): Promise<boolean> {
    return this.changeWithAudit(
      {
        TableName: this.tables.state,
        Key: { pk: worldPk(worldId), sk: `${MUTE_PREFIX}${muteId}` },
        UpdateExpression: 'SET ended_at = :at, ended_by = :by, end_reason = :why',
        ConditionExpression: 'attribute_exists(sk) AND attribute_not_exists(ended_at)',
        ExpressionAttributeValues: { ':at': end.ended_at, ':by': end.ended_by, ':why': end.end_reason },
      },
      audit,
    );
  }

  async listMutes(worldId?: string): Promise<MuteRecord[]> {
    const items =
      worldId !== undefined
        ? await queryAll(this.doc, {
            TableName: this.tables.state,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': MUTE_PREFIX },
            ConsistentRead: true,
          })
        : await scanAll(this.doc, {
            TableName: this.tables.state,
            FilterExpression: 'begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':prefix': MUTE_PREFIX },
          });
    return items.map(toMute);
  }

  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>> {
    return loadEpisodes(this.doc, this.tables.state, worldId);
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    try {
      await this.doc.send(new PutCommand(auditPut(this.tables.audit, record)));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listAudit(worldId: string, since?: string, limit?: number): Promise<AuditRecord[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tables.audit,
        KeyConditionExpression: since ? 'world_id = :w AND record_id >= :since' : 'world_id = :w',
        ExpressionAttributeValues: { ':w': worldId, ...(since ? { ':since': since } : {}) },
      },
      limit,
    );
    return items as unknown as AuditRecord[];
  }

  /** A conditional update and its audit record together; false when the condition failed. */
  private async changeWithAudit(
    update: UpdateCommandInput,
    audit: AuditRecord | undefined,
    /** Written with the change (after it, without transactions): an approved-cut marker. */
    alsoPut?: { TableName: string; Item: Record<string, unknown> },
  ): Promise<boolean> {
    if (audit && this.transactions) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  ...update,
                  UpdateExpression: update.UpdateExpression!,
                  Key: update.Key!,
                  TableName: update.TableName!,
                },
              },
              { Put: auditPut(this.tables.audit, audit) },
              ...(alsoPut ? [{ Put: alsoPut }] : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException && cancelledByConditions(error, [0])) return false;
        throw error;
      }
    }
    try {
      await this.doc.send(new UpdateCommand(update));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    if (alsoPut) await this.doc.send(new PutCommand(alsoPut));
    if (audit) await this.appendAudit(audit);
    return true;
  }
}
