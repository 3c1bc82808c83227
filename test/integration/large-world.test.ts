import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { killedPublisher } from './support/killed-publisher.js';
import { usePipeline } from './support/pipeline.js';

const N = 1_000;
const NOW_MS = Date.now();

/**
 * A world of N equal-weight strategies whose worst stress scenario (`worstStress`) breaches the
 * default rule set's 30% stress drawdown limit: an exit for every strategy. (A full covariance of
 * N strategies comes by reference; this one leaves it out, so VaR is recorded as unavailable.)
 */
function bigSnapshot(world: string, worstStress: number): Record<string, unknown> {
  const w = 1 / N;
  const ids = Array.from({ length: N }, (_, i) => `strategy-${String(i).padStart(4, '0')}`);
  // Today's times: signal rows expire (TTL) a retention period after their event time, and DynamoDB
  // Local deletes rows whose expiry passed while the test reads them.
  const asOf = new Date(NOW_MS - 10_000).toISOString();
  const hash = 'sha256:big-v1';
  return {
    specversion: '1.0',
    id: `ce-${world}-v1`,
    source: 'qmtl.services.worldservice',
    type: 'risk_snapshot_updated',
    time: new Date(NOW_MS).toISOString(),
    datacontenttype: 'application/json',
    correlation_id: `risk_snapshot:${world}:${hash}`,
    data: {
      world_id: world,
      as_of: asOf,
      version: 'v1',
      weights: Object.fromEntries(ids.map((id) => [id, w])),
      stress: { crash: { max_drawdown: worstStress } },
      provenance: { actor: 'risk-hub', stage: 'paper' },
      hash,
      ttl_sec: 900,
      created_at: new Date(NOW_MS).toISOString(),
      event_version: 1,
      idempotency_key: `risk_snapshot_updated:${world}:${hash}:1`,
    },
  };
}

describe('a 1,000-strategy world in breach (DynamoDB Local + local EventBridge)', () => {
  const faults = killedPublisher();
  const p = usePipeline({ name: 'large', clock: 'event-time', overrides: faults.overrides });
  const emittedFor = (world: string) => p.emitted(world);

  /** Runs the sweeper as it would run once every lease has run out, then lets the bus deliver. */
  const sweepLater = async () => {
    faults.offsetMs = 120_000;
    const swept = await p.stack.engine.sweepOutboxes({
      invocationId: randomUUID(),
      remainingMs: () => 120_000,
    });
    faults.offsetMs = 0;
    await p.stack.bus.drain();
    return swept;
  };

  const put = (world: string) =>
    p.put({
      EventBusName: LOCAL_BUS_NAME,
      Source: 'qmtl.services.worldservice',
      DetailType: 'risk_snapshot_updated',
      Detail: JSON.stringify(bigSnapshot(world, 0.45)),
      Time: new Date(NOW_MS),
    });

  it('is evaluated, stored and published in parts, each under 256 KB and valid upstream', async () => {
    const world = 'w-big';
    await put(world);
    // On a loaded machine the invocation may pass its 30 s deadline before publishing (it then hands
    // the outbox back, or its lease runs out): the sweeper completes it. Either way each part goes
    // out once, and at most one invocation publishes.
    await sweepLater();
    const outcomes = p.stack.outcomes.filter((o) => o.world_id === world).map((o) => o.outcome);
    expect(
      outcomes.filter((o) => o === 'published' || o === 'completed_on_retry').length,
    ).toBeLessThanOrEqual(1);
    const parts = emittedFor(world);
    expect(new Set(parts.map((p) => p.id)).size).toBe(parts.length);
    expect(parts.length).toBeGreaterThan(1);
    const validate = upstreamValidator();
    const keys = new Set<string>();
    for (const part of parts) {
      expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThan(256 * 1024);
      expect(validate.exitSignal(part)).toBe('');
      expect(part.data.idempotency_key).toMatch(new RegExp(`:part-\\d+-of-${parts.length}$`));
      keys.add(part.data.idempotency_key.replace(/:part-\d+-of-\d+$/, ''));
    }
    // One evaluation: every part shares its key, and together they carry every strategy once.
    expect(keys.size).toBe(1);
    const strategies = parts.flatMap((p) => p.data.signals.map((s) => s.strategy_id));
    expect(new Set(strategies).size).toBe(N);
    expect(strategies).toHaveLength(N);
    const stored = await p.read.signals(world);
    expect(stored).toHaveLength(N);
    expect(stored.every((s) => s.status === 'published')).toBe(true);
  }, 300_000);

  it('survives a crash between commit and publish: the sweeper publishes every part once', async () => {
    const world = 'w-big-crash';
    faults.die = 1;
    await put(world);
    expect(emittedFor(world)).toHaveLength(0);
    const swept = await sweepLater();
    expect(swept.failed).toBe(0);
    expect(swept.published).toBeGreaterThanOrEqual(1);
    const parts = emittedFor(world);
    expect(parts.length).toBeGreaterThan(1);
    expect(new Set(parts.map((p) => p.id)).size).toBe(parts.length);
    expect(parts.flatMap((p) => p.data.signals)).toHaveLength(N);
    expect((await p.read.signals(world)).every((s) => s.status === 'published')).toBe(true);
  }, 300_000);
});
