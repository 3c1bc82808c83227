import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayStream } from '#lib/cli/commands/local.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { type Pipeline, startPipeline } from './support/pipeline.js';
import { putEntry } from './support/snapshots.js';

const DAY_SEC = 86_400;

/**
 * Replayed history is evaluated as of its own time, but lives on today's clock: retention starts
 * when a record is written, and a year-old approval proposal is never emitted by the sweep.
 */
describe('replayed history on the wall clock', () => {
  const start = (rulesetsPath: string) => startPipeline({ name: 'time', clock: 'event-time', rulesetsPath });
  let p: Pipeline;
  let wallBeforeSec: number;

  beforeAll(async () => {
    wallBeforeSec = Math.floor(Date.now() / 1000);
    p = await start('rulesets');
  });
  afterAll(async () => p?.stop());

  it("keeps the demo's signals and audit records for their retention from today, not from 2025", async () => {
    await replayStream(p.stack, readFileSync('examples/demo-world.jsonl', 'utf8'), () => undefined);
    const signals = await p.read.signals('demo-world');
    const audit = await p.read.audit('demo-world');
    expect(signals).toHaveLength(20);
    expect(audit.length).toBeGreaterThan(30);
    const { SIGNAL_RETENTION_DAYS, AUDIT_RETENTION_DAYS } = p.stack.config;
    // DynamoDB's TTL deletes an item once expires_at (epoch seconds) is in the past.
    for (const s of signals)
      expect(s.expires_at as number).toBeGreaterThanOrEqual(wallBeforeSec + SIGNAL_RETENTION_DAYS * DAY_SEC);
    for (const r of audit)
      expect(r.expires_at as number).toBeGreaterThanOrEqual(wallBeforeSec + AUDIT_RETENTION_DAYS * DAY_SEC);
    // And ops list them, as `signals list` does.
    expect(await p.stack.ops.listSignals({ world_id: 'demo-world' })).toHaveLength(20);
  });

  it('expires a replayed proposal whose snapshot is long expired instead of emitting its default', async () => {
    await p.stop();
    p = await start('test/fixtures/rulesets/ops');
    const out = await p.send(
      putEntry(
        { world: 'w-timeout-emit', version: 'old', asOf: '2025-03-10T21:00:00Z', varLevel: 0.05 },
        LOCAL_BUS_NAME,
      ),
    );
    expect(out.FailedEntryCount).toBe(0);
    const proposals = await p.stack.ops.listSignals({ world_id: 'w-timeout-emit', status: 'proposed' });
    const proposal = proposals[0];
    expect(proposal?.approval?.default).toBe('emit');
    expect(proposal?.approval?.snapshot_expires_at).toMatch(/^2025-03-10T21:/);

    const sweep = await p.stack.ops.expireDue(Date.now());

    expect(sweep.stale.sort()).toEqual(proposals.map((p) => p.signal_id).sort());
    expect(sweep.emitted).toEqual([]);
    await p.stack.bus.drain();
    const emitted = p.emitted('w-timeout-emit');
    expect(emitted).toEqual([]);
    const settled = await p.stack.ops.getSignal(proposal!.signal_id);
    expect(settled.status).toBe('expired');
    expect(settled.decision_reason).toMatch(/expired at 2025-03-10T21:.*never emitted/);
    const audit = await p.stack.ops.listAudit('w-timeout-emit');
    expect(
      audit.some(
        (r) => r.action === 'timeout_stale' && (r.target as { id?: string }).id === proposal!.signal_id,
      ),
    ).toBe(true);
  });
});
