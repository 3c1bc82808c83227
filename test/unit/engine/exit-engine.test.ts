import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { EvaluationInProgressError, PublishError } from '#lib/engine/errors.js';
import type { SignalPublisher } from '#lib/engine/ports.js';
import { parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { cloudEvent, type SnapshotSpec } from '#test/integration/support/snapshots.js';
import { testEngineDeps } from '#test/support/engine-deps.js';

/** The engine use case on the in-memory store and publisher: dedupe, ordering, the outbox, approval deadlines. */

const RULES = `
world: default
rules:
  - id: var_enforce
    kind: var_limit
    limit: 0.025
    clear: 0.02
    target: 0.02
`;
const APPROVAL_RULES = (approval: string) => `
world: default
rules:
  - id: var_approval
    kind: var_limit
    limit: 0.02
    action: { type: exit }
    mode: approval
${approval}
`;
const LEASE_MS = 30_000;
const AS_OF = '2025-03-10T21:00:00Z';
const NOW = Date.parse(AS_OF) + 30_000;

/** A publisher whose next `failures` calls fail as a PutEvents partial failure would. */
class FlakyPublisher implements SignalPublisher {
  failures = 0;
  readonly inner = new InMemoryPublisher();
  async publish(events: readonly EngineEvent[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new PublishError('PutEvents failed for 1 of 1 entries', [{ index: 0, errorCode: 'Throttled' }]);
    }
    await this.inner.publish(events);
  }
}

describe('ExitEngine', () => {
  let store: InMemoryEngineStore;
  let publisher: FlakyPublisher;
  let wall: number;
  const engineWith = (rules: string) =>
    new ExitEngine(
      testEngineDeps({
        store,
        publisher,
        ruleSets: new RuleSetRegistry([parseRuleSet(rules, 'test.yaml')]),
        leaseMs: LEASE_MS,
        wallClock: () => wall,
      }),
    );

  beforeEach(() => {
    store = new InMemoryEngineStore();
    publisher = new FlakyPublisher();
    wall = NOW;
  });

  const delivery = (spec: Partial<SnapshotSpec> = {}, invocationId = 'inv-1', nowMs = NOW) => ({
    cloudEvent: RiskSnapshotCloudEventSchema.parse(
      cloudEvent({ world: 'w1', version: 'v1', asOf: AS_OF, varLevel: 0.03, ...spec }),
    ),
    deliveryId: `eb-${spec.version ?? 'v1'}`,
    invocationId,
    nowMs,
  });

  it('publishes a breach once; the same event again is a duplicate', async () => {
    const engine = engineWith(RULES);
    expect((await engine.handleSnapshot(delivery())).outcome).toBe('published');
    expect((await engine.handleSnapshot(delivery({}, 'inv-2'))).outcome).toBe('duplicate');
    expect(publisher.inner.exitSignals()).toHaveLength(1);
    expect(store.allSignals().map((s) => s.status)).toEqual(['published', 'published', 'published']);
  });

  it('completes on retry a publish that failed after the commit, with the same event', async () => {
    const engine = engineWith(RULES);
    publisher.failures = 1;
    await expect(engine.handleSnapshot(delivery())).rejects.toBeInstanceOf(PublishError);
    // The rows of published signals are written once the bus has them, already published.
    expect(store.allSignals()).toEqual([]);
    expect((await store.listStuckOutboxes(Number.MAX_SAFE_INTEGER, 10)).length).toBe(1);
    const retry = await engine.handleSnapshot(delivery({}, 'inv-2'));
    expect(retry.outcome).toBe('completed_on_retry');
    expect(publisher.inner.exitSignals()).toHaveLength(1);
    expect(store.allSignals().map((s) => s.status)).toEqual(['published', 'published', 'published']);
  });

  it('refuses a concurrent duplicate while the first holds its claim, and takes over once it ran out', async () => {
    const engine = engineWith(RULES);
    const load = store.loadEpisodes.bind(store);
    const during: unknown[] = [];
    let arrived = false;
    // While inv-1 evaluates (between its claim and its commit), two more deliveries of the same event arrive.
    store.loadEpisodes = async (world) => {
      if (!arrived) {
        arrived = true;
        during.push(await engine.handleSnapshot(delivery({}, 'inv-2')).catch((e: unknown) => e));
        wall = NOW + LEASE_MS + 1;
        during.push(await engine.handleSnapshot(delivery({}, 'inv-3')).catch((e: unknown) => e));
      }
      return load(world);
    };
    const first = await engine.handleSnapshot(delivery()).catch((e: unknown) => e);
    expect(during[0]).toBeInstanceOf(EvaluationInProgressError);
    expect(during[1]).toMatchObject({ outcome: 'published' });
    expect(first).toBeInstanceOf(EvaluationInProgressError); // its claim was taken over: it must not commit
    expect(publisher.inner.exitSignals()).toHaveLength(1);
  });

  it('ignores a snapshot older than the latest one, recording why', async () => {
    const engine = engineWith(RULES);
    await engine.handleSnapshot(
      delivery({ version: 'v2', asOf: '2025-03-10T21:00:10Z' }, 'inv-1', NOW + 10_000),
    );
    const older = await engine.handleSnapshot(delivery({ version: 'v1' }, 'inv-2', NOW + 20_000));
    expect(older.outcome).toBe('out_of_order');
    expect(publisher.inner.exitSignals()).toHaveLength(1);
    expect(store.allAudit().some((a) => a.kind === 'out_of_order')).toBe(true);
  });

  it('fails closed on an expired snapshot: recorded, not evaluated', async () => {
    const engine = engineWith(RULES);
    const late = await engine.handleSnapshot(delivery({ ttlSec: 60 }, 'inv-1', NOW + 3_600_000));
    expect(late.outcome).toBe('expired');
    expect(publisher.inner.published()).toEqual([]);
    expect(store.allAudit().map((a) => a.kind)).toEqual(['expired']);
  });

  it("proposes an approval-mode signal with its rule's deadline and default", async () => {
    const engine = engineWith(
      APPROVAL_RULES('    approval: { timeout_sec: 600, default: emit, four_eyes: true }'),
    );
    expect((await engine.handleSnapshot(delivery())).outcome).toBe('stored_only');
    const [row] = store.allSignals();
    expect(row?.status).toBe('proposed');
    expect(row?.approval).toEqual({
      timeout_sec: 600,
      default: 'emit',
      four_eyes: true,
      deadline: new Date(NOW + 600_000).toISOString(),
      // The snapshot's created_at (as_of + 10 s in these fixtures) + its ttl_sec of 900.
      snapshot_expires_at: new Date(Date.parse(AS_OF) + 10_000 + 900_000).toISOString(),
    });
    expect(publisher.inner.exitSignals()).toEqual([]);
    expect(publisher.inner.published().map((e) => e.type)).toEqual(['exit_signal_proposed']);
  });

  it('proposes a hold, once the episode clears, only to strategies whose cut ops approved', async () => {
    const engine = engineWith(APPROVAL_RULES(''));
    await engine.handleSnapshot(delivery());
    const proposed = store.allSignals();
    expect(proposed.length).toBeGreaterThan(1);
    const [approved, ...others] = proposed;
    store.setSignalStatus(approved!.signal_id, 'published');
    for (const row of others) store.setSignalStatus(row.signal_id, 'rejected');
    const later = new Date(Date.parse(AS_OF) + 60_000).toISOString();
    wall = NOW + 60_000;
    await engine.handleSnapshot(
      delivery({ version: 'v2', asOf: later, varLevel: 0.01 }, 'inv-2', NOW + 60_000),
    );
    const holds = store.allSignals().filter((s) => s.action === 'hold');
    expect(holds.map((s) => [s.strategy_id, s.status])).toEqual([[approved!.strategy_id, 'proposed']]);
  });

  it('gives an approval rule without settings the defaults: 900 s, then drop, one approver', async () => {
    const engine = engineWith(APPROVAL_RULES(''));
    await engine.handleSnapshot(delivery());
    expect(store.allSignals()[0]?.approval).toEqual({
      timeout_sec: 900,
      default: 'drop',
      four_eyes: false,
      deadline: new Date(NOW + 900_000).toISOString(),
      snapshot_expires_at: new Date(Date.parse(AS_OF) + 10_000 + 900_000).toISOString(),
    });
  });
});
