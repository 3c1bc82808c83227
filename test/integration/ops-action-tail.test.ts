import { beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { describeOpsAction } from '#lib/cli/local/lines.js';
import { localDocumentClient } from '#lib/local/dynamodb-server.js';
import { opsActionsSince } from '#lib/local/ops-action-tail.js';
import { usePipeline } from './support/pipeline.js';

/** The running runtime prints ops actions taken by other processes; it reads them from the audit trail. */
describe('opsActionsSince', () => {
  const p = usePipeline({ name: 'tail' });
  let client: DynamoDocumentClient;
  beforeAll(() => {
    client = localDocumentClient(p.stack.dynamoEndpoint);
  });

  it('finds the ops actions recorded since a time, oldest first, and says each in one line', async () => {
    const now = Date.now();
    const since = new Date(now - 1).toISOString();
    await p.stack.ops.mute({
      world: 'w-tail',
      // One rule, all strategies: a world-wide mute would wait for a second person.
      rule: 'var_99_limit',
      until: new Date(now + 3_600_000).toISOString(),
      reason: 'maintenance',
      actor: 'alice',
      nowMs: now,
    });
    await p.stack.ops.unmute({
      world: 'w-tail',
      rule: 'var_99_limit',
      reason: 'done',
      actor: 'bob',
      nowMs: now + 5,
    });

    const records = await opsActionsSince(client, p.stack.tables.audit, since);

    expect(records.map((r) => r.actor)).toEqual(['alice', 'bob']);
    expect(describeOpsAction(records[0]!)).toMatch(/^ {2}OPS mute w-tail .* by alice: maintenance$/);
    expect(await opsActionsSince(client, p.stack.tables.audit, new Date(now + 60_000).toISOString())).toEqual(
      [],
    );
  });
});
