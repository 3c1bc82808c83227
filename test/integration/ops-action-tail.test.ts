import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { describeOpsAction } from '#lib/cli/local/lines.js';
import { localDocumentClient } from '#lib/local/dynamodb-server.js';
import { type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { opsActionsSince } from '#lib/local/ops-action-tail.js';

/** The running runtime prints ops actions taken by other processes; it reads them from the audit trail. */
describe('opsActionsSince', () => {
  let stack: LocalStack;
  let client: DynamoDocumentClient;
  beforeAll(async () => {
    stack = await startLocalStack({
      dynamoEndpoint: inject('dynamoEndpoint'),
      dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
      tablePrefix: `it-tail-${randomUUID().slice(0, 8)}-`,
    });
    client = localDocumentClient(stack.dynamoEndpoint);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('finds the ops actions recorded since a time, oldest first, and says each in one line', async () => {
    const now = Date.now();
    const since = new Date(now - 1).toISOString();
    await stack.ops.mute({
      world: 'w-tail',
      // One rule, all strategies: a world-wide mute would wait for a second person.
      rule: 'var_99_limit',
      until: new Date(now + 3_600_000).toISOString(),
      reason: 'maintenance',
      actor: 'alice',
      nowMs: now,
    });
    await stack.ops.unmute({
      world: 'w-tail',
      rule: 'var_99_limit',
      reason: 'done',
      actor: 'bob',
      nowMs: now + 5,
    });

    const records = await opsActionsSince(client, stack.tables.audit, since);

    expect(records.map((r) => r.actor)).toEqual(['alice', 'bob']);
    expect(describeOpsAction(records[0]!)).toMatch(/^ {2}OPS mute w-tail .* by alice: maintenance$/);
    expect(await opsActionsSince(client, stack.tables.audit, new Date(now + 60_000).toISOString())).toEqual(
      [],
    );
  });
});
