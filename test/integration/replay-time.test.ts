import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replayStream } from '#lib/cli/commands/local.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { putEntry } from './support/snapshots.js';
import { tableReader } from './support/tables.js';

const DAY_SEC = 86_400;

/**
 * Replayed history is evaluated as of its own time, but lives on today's clock: retention starts
 * when a record is written, and a year-old approval proposal is never emitted by the sweep.
 */
describe('replayed history on the wall clock', () => {
  const start = (rulesetsPath: string) =>
    startLocalStack({
      dynamoEndpoint: inject('dynamoEndpoint'),
      dynamoTransactions: inject('dynamoKind') === 'dynamodb-local',
      tablePrefix: `it-time-${randomUUID().slice(0, 8)}-`,
      clock: 'event-time',
      rulesetsPath,
    });
  let stack: LocalStack;
  let wallBeforeSec: number;

  beforeAll(async () => {
    wallBeforeSec = Math.floor(Date.now() / 1000);
    stack = await start('rulesets');
  });
  afterAll(async () => stack?.stop());

  it("keeps the demo's signals and audit records for their retention from today, not from 2025", async () => {
    await replayStream(stack, readFileSync('examples/demo-world.jsonl', 'utf8'), () => undefined);
    const read = tableReader(stack);
    const signals = await read.signals('demo-world');
    const audit = await read.audit('demo-world');
    read.destroy();
    expect(signals).toHaveLength(20);
    expect(audit.length).toBeGreaterThan(30);
    const { SIGNAL_RETENTION_DAYS, AUDIT_RETENTION_DAYS } = stack.config;
    // DynamoDB's TTL deletes an item once expires_at (epoch seconds) is in the past.
    for (const s of signals)
      expect(s.expires_at as number).toBeGreaterThanOrEqual(wallBeforeSec + SIGNAL_RETENTION_DAYS * DAY_SEC);
    for (const r of audit)
      expect(r.expires_at as number).toBeGreaterThanOrEqual(wallBeforeSec + AUDIT_RETENTION_DAYS * DAY_SEC);
    // And ops list them, as `signals list` does.
    expect(await stack.ops.listSignals({ world_id: 'demo-world' })).toHaveLength(20);
  });

  it('expires a replayed proposal whose snapshot is long expired instead of emitting its default', async () => {
    await stack.stop();
    stack = await start('test/fixtures/rulesets/ops');
    const client = new EventBridgeClient({ endpoint: stack.busEndpoint, region: 'us-east-1' });
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          putEntry(
            { world: 'w-timeout-emit', version: 'old', asOf: '2025-03-10T21:00:00Z', varLevel: 0.05 },
            LOCAL_BUS_NAME,
          ),
        ],
      }),
    );
    client.destroy();
    expect(out.FailedEntryCount).toBe(0);
    await stack.bus.drain();
    const proposals = await stack.ops.listSignals({ world_id: 'w-timeout-emit', status: 'proposed' });
    const proposal = proposals[0];
    expect(proposal?.approval?.default).toBe('emit');
    expect(proposal?.approval?.snapshot_expires_at).toMatch(/^2025-03-10T21:/);

    const sweep = await stack.ops.expireDue(Date.now());

    expect(sweep.stale.sort()).toEqual(proposals.map((p) => p.signal_id).sort());
    expect(sweep.emitted).toEqual([]);
    await stack.bus.drain();
    const emitted = stack.emitted
      .map((e) => e.detail as ExitSignalEvent)
      .filter((e) => e.data.world_id === 'w-timeout-emit');
    expect(emitted).toEqual([]);
    const settled = await stack.ops.getSignal(proposal!.signal_id);
    expect(settled.status).toBe('expired');
    expect(settled.decision_reason).toMatch(/expired at 2025-03-10T21:.*never emitted/);
    const audit = await stack.ops.listAudit('w-timeout-emit');
    expect(
      audit.some(
        (r) => r.action === 'timeout_stale' && (r.target as { id?: string }).id === proposal!.signal_id,
      ),
    ).toBe(true);
  });
});
