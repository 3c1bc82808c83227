import type { AuditRecord } from '#lib/engine/ports.js';
import type { PendingRuleSet, RuleSetStore, StoredRuleSet } from '#lib/rulesets/store.js';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException, TransactionCanceledException } from './client/errors.js';
import { auditPut } from './document.js';

/**
 * The rule-set store in the state table, beside the engine's own bookkeeping, under a partition of
 * its own per world (`RULESET#<world>`), so a publisher's policy can be limited to those keys
 * (`dynamodb:LeadingKeys`):
 * - `CURRENT`: the current revision, the item the functions read (one GetItem per world per cache TTL);
 * - `REV#000000001`, ...: every published revision, never overwritten (history and rollback);
 * - `PENDING`: a publish waiting for its second person.
 * A publish is a transaction: CURRENT moves only from the revision it names, the new REV item is
 * created once, the audit record lands with it. On dynalite (no transactions) the conditional write of
 * CURRENT goes first and decides; the rest follows in order.
 */
export const RULESET_PK_PREFIX = 'RULESET#';
const CURRENT = 'CURRENT';
const PENDING = 'PENDING';
const REV_PREFIX = 'REV#';

const pk = (world: string) => `${RULESET_PK_PREFIX}${world}`;
const revSk = (revision: number) => `${REV_PREFIX}${String(revision).padStart(9, '0')}`;

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

/** Whether a cancelled transaction failed on item conditions only (not a throttle or a conflict). */
function cancelledByConditions(error: TransactionCanceledException): boolean {
  const failed = (error.CancellationReasons ?? []).filter((r) => (r.Code ?? 'None') !== 'None');
  return failed.length > 0 && failed.every((r) => r.Code === 'ConditionalCheckFailed');
}

export class DynamoDbRuleSetStore implements RuleSetStore {
  constructor(
    private readonly doc: DynamoDocumentClient,
    private readonly tables: { state: string; audit: string },
    private readonly transactions = true,
  ) {}

  async current(worldId: string): Promise<StoredRuleSet | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tables.state, Key: { pk: pk(worldId), sk: CURRENT } }),
    );
    return out.Item ? strip<StoredRuleSet>(out.Item) : undefined;
  }

  async history(worldId: string, limit = 50): Promise<StoredRuleSet[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.state,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :rev)',
        ExpressionAttributeValues: { ':pk': pk(worldId), ':rev': REV_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => strip<StoredRuleSet>(i));
  }

  async publish(next: StoredRuleSet, audit: AuditRecord, proposalId?: string): Promise<boolean> {
    const current = {
      TableName: this.tables.state,
      Item: { pk: pk(next.world_id), sk: CURRENT, ...next },
      ...(next.revision === 1
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'revision = :previous',
            ExpressionAttributeValues: { ':previous': next.revision - 1 },
          }),
    };
    const revision = {
      TableName: this.tables.state,
      Item: { pk: pk(next.world_id), sk: revSk(next.revision), ...next },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    const consume =
      proposalId === undefined
        ? undefined
        : {
            TableName: this.tables.state,
            Key: { pk: pk(next.world_id), sk: PENDING },
            ConditionExpression: 'proposal_id = :id',
            ExpressionAttributeValues: { ':id': proposalId },
          };
    if (this.transactions) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: current },
              { Put: revision },
              { Put: auditPut(this.tables.audit, audit) },
              ...(consume ? [{ Delete: consume }] : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException && cancelledByConditions(error)) return false;
        throw error;
      }
    }
    if (consume && !(await this.conditional(() => this.doc.send(new DeleteCommand(consume))))) return false;
    if (!(await this.conditional(() => this.doc.send(new PutCommand(current))))) return false;
    await this.conditional(() => this.doc.send(new PutCommand(revision)));
    await this.conditional(() => this.doc.send(new PutCommand(auditPut(this.tables.audit, audit))));
    return true;
  }

  async propose(proposal: PendingRuleSet, audit: AuditRecord): Promise<boolean> {
    const put = {
      TableName: this.tables.state,
      Item: { pk: pk(proposal.world_id), sk: PENDING, ...proposal },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    return this.withAudit({ Put: put }, () => this.doc.send(new PutCommand(put)), audit);
  }

  async pending(worldId: string): Promise<PendingRuleSet | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tables.state,
        Key: { pk: pk(worldId), sk: PENDING },
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<PendingRuleSet>(out.Item) : undefined;
  }

  async withdraw(worldId: string, proposalId: string, audit: AuditRecord): Promise<boolean> {
    const remove = {
      TableName: this.tables.state,
      Key: { pk: pk(worldId), sk: PENDING },
      ConditionExpression: 'proposal_id = :id',
      ExpressionAttributeValues: { ':id': proposalId },
    };
    return this.withAudit({ Delete: remove }, () => this.doc.send(new DeleteCommand(remove)), audit);
  }

  /** One conditional change and its audit record: a transaction, or (dynalite) the change first. */
  private async withAudit(
    item: { Put: PutCommand['input'] } | { Delete: DeleteCommand['input'] },
    single: () => Promise<unknown>,
    audit: AuditRecord,
  ): Promise<boolean> {
    if (this.transactions) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [item as never, { Put: auditPut(this.tables.audit, audit) }],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException && cancelledByConditions(error)) return false;
        throw error;
      }
    }
    if (!(await this.conditional(single))) return false;
    await this.conditional(() => this.doc.send(new PutCommand(auditPut(this.tables.audit, audit))));
    return true;
  }

  /** Runs a conditional write; false when its condition failed. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
