import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal.js';
import { PublishError } from '#lib/engine/errors.js';
import type { EngineMetrics, SignalPublisher } from '#lib/engine/ports.js';
import { createSnapshotHandler } from '#lib/handlers/snapshot-handler.js';
import { LOCAL_BUS_NAME, lambdaContext } from '#lib/local/local-stack.js';
import { usePipeline } from './support/pipeline.js';
import { cloudEvent, eventBridgeEvent, putEntry } from './support/snapshots.js';

/** Counts what the engine reports, so a test can see a rejection was also a metric. */
function metricRecorder() {
  const counts = new Map<string, number>();
  const metrics: EngineMetrics = {
    count(name, value = 1, dimensions) {
      const key = dimensions ? `${name}:${Object.values(dimensions).join(',')}` : name;
      counts.set(key, (counts.get(key) ?? 0) + value);
      counts.set(name, (counts.get(name) ?? 0) + (dimensions ? value : 0));
    },
    measure() {},
  };
  return { metrics, counts };
}

/** Wraps the real publisher: the next `crashes` calls fail definitely, before reaching the bus. */
function crashingPublisher(real: SignalPublisher) {
  const control = { crashes: 0, calls: 0 };
  const publisher: SignalPublisher = {
    async publish(events, options) {
      control.calls++;
      if (control.crashes > 0) {
        control.crashes--;
        throw new PublishError('simulated failure before anything reached the bus', [{ index: 0 }]);
      }
      return real.publish(events, options);
    },
  };
  return { publisher, control };
}

describe('delivery guarantees (DynamoDB Local + local EventBridge + the Lambda handler)', () => {
  const recorder = metricRecorder();
  let crash: ReturnType<typeof crashingPublisher>['control'];
  const p = usePipeline({
    name: 'delivery',
    clock: 'event-time',
    overrides: (deps) => {
      const wrapped = crashingPublisher(deps.publisher);
      crash = wrapped.control;
      return { publisher: wrapped.publisher, metrics: recorder.metrics };
    },
  });

  const put = (...entries: Parameters<typeof putEntry>[0][]) =>
    p.put(...entries.map((e) => putEntry(e, LOCAL_BUS_NAME)));
  const emittedFor = (world: string) => p.emitted(world);

  it('publishes one event and stores one signal per strategy when a snapshot breaches the VaR limit', async () => {
    const world = 'w-breach';
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 });
    const emitted = emittedFor(world);
    expect(emitted).toHaveLength(1);
    const signals = emitted[0]!.data.signals;
    expect(signals.map((s) => s.strategy_id).sort()).toEqual(['alpha', 'beta', 'gamma']);
    // Uniform sizing to the 2% target: r = 1 − 0.02/0.034.
    for (const s of signals) {
      expect(s.action).toBe('reduce');
      expect(s.reduction_ratio).toBeCloseTo(1 - 0.02 / 0.034, 6);
      expect(s.tags).toContain('rule:var_99_limit');
    }
    const stored = await p.read.signals(world);
    expect(stored).toHaveLength(3);
    expect(stored.every((s) => s.status === 'published' && s.event_id === emitted[0]!.id)).toBe(true);
  });

  it('turns a redelivered event into one stored signal set and one published event', async () => {
    const world = 'w-redeliver';
    const spec = { world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 };
    await put(spec);
    await put(spec);
    expect(emittedFor(world)).toHaveLength(1);
    expect(await p.read.signals(world)).toHaveLength(3);
    expect(p.outcomes(world)).toEqual(['published', 'duplicate']);
  });

  it('turns two concurrent deliveries of the same event into one published event', async () => {
    const world = 'w-concurrent';
    const spec = { world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 };
    // One PutEvents call with the same entry twice: both are routed at once.
    await put(spec, spec);
    expect(emittedFor(world)).toHaveLength(1);
    expect(await p.read.signals(world)).toHaveLength(3);
    const outcomes = p.outcomes(world);
    expect(outcomes.filter((o) => o === 'published')).toHaveLength(1);
    expect(outcomes).toContain('duplicate');
  });

  it('completes a publish on retry when the first publish failed after storing, before reaching the bus', async () => {
    const world = 'w-crash';
    crash.crashes = 1;
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 });
    expect(crash.crashes).toBe(0);
    const outcomes = p.outcomes(world);
    expect(outcomes).toEqual(['completed_on_retry']);
    expect(emittedFor(world)).toHaveLength(1);
    const stored = await p.read.signals(world);
    expect(stored).toHaveLength(3);
    expect(stored.every((s) => s.status === 'published')).toBe(true);
  });

  it('retries only the failed PutEvents entries and publishes once', async () => {
    const world = 'w-partial';
    const before = p.stack.emitted.length;
    p.stack.bus.injectPutEventsFailures({ count: 1, source: EXIT_ENGINE_SOURCE });
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 });
    expect(emittedFor(world)).toHaveLength(1);
    expect(p.stack.emitted.length - before).toBe(1);
    expect(p.outcomes(world)).toEqual(['published']);
  });

  it('fails the invocation when PutEvents keeps failing, and the retried invocation publishes', async () => {
    const world = 'w-unrecoverable';
    // The publisher tries 3 times per invocation: 4 failures exhaust the first invocation.
    p.stack.bus.injectPutEventsFailures({ count: 4, source: EXIT_ENGINE_SOURCE });
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 });
    expect(p.outcomes(world)).toEqual(['completed_on_retry']);
    expect(emittedFor(world)).toHaveLength(1);
    expect(p.stack.bus.deadLetters()).toHaveLength(0);
  });

  it('records and ignores an older snapshot that arrives after a newer one', async () => {
    const world = 'w-order';
    await put({ world, version: 'v2', asOf: '2025-03-11T21:00:00Z', varLevel: 0.014 });
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.05 });
    expect(emittedFor(world)).toHaveLength(0);
    expect(p.outcomes(world)).toEqual(['no_signal', 'out_of_order']);
    const audit = await p.read.audit(world);
    const late = audit.find((r) => r.kind === 'out_of_order');
    expect(late).toMatchObject({ snapshot_version: 'v1', latest_version: 'v2' });
  });

  it('never lets a snapshot with an equal as_of and another version override the latest', async () => {
    const world = 'w-tie';
    await put({ world, version: 'v2', asOf: '2025-03-11T21:00:00Z', varLevel: 0.014 });
    await put({ world, version: 'v2-bis', asOf: '2025-03-11T21:00:00Z', varLevel: 0.05 });
    expect(emittedFor(world)).toHaveLength(0);
  });

  it('records every evaluation in the audit trail, including rules that did not fire', async () => {
    const world = 'w-audit';
    await put({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.014 });
    const evaluation = (await p.read.audit(world)).find((r) => r.kind === 'evaluation');
    expect(evaluation).toBeDefined();
    const rules = evaluation!.rules as { rule_id: string; measure: number; limit: number; verdict: string }[];
    const varRule = rules.find((r) => r.rule_id === 'var_99_limit')!;
    expect(varRule.verdict).toBe('ok');
    expect(varRule.measure).toBeCloseTo(0.014, 9);
    expect(varRule.limit).toBe(0.025);
    expect(rules.find((r) => r.rule_id === 'stress_drawdown_limit')).toMatchObject({
      measure: 0.2,
      verdict: 'ok',
    });
    expect(evaluation!.published_event_id).toBeNull();
  });

  describe('bad input: recorded with a reason naming the field, counted, never retried', () => {
    const rejectionsFor = async (world: string) =>
      (await p.read.audit(world)).filter((r) => r.kind === 'rejection');
    const cases: { name: string; world: string; data: Record<string, unknown>; reason: RegExp }[] = [
      {
        name: 'weights summing to 0.5',
        world: 'w-bad-weights',
        data: { weights: { alpha: 0.25, beta: 0.15, gamma: 0.1 } },
        reason: /data\.weights: must sum to 1 ± 0\.001 \(sum is 0\.5\)/,
      },
      {
        name: 'NaN in realized returns',
        world: 'w-bad-nan',
        data: { realized_returns: { alpha: [0.01, 'NaN', 0.02], beta: [0, 0, 0], gamma: [0, 0, 0] } },
        reason: /data\.realized_returns/,
      },
      {
        name: 'an unknown covariance key',
        world: 'w-bad-cov',
        data: { covariance: { 'alpha,alpha': 0.0001, 'alpha,delta': 0.00002 } },
        reason: /data\.covariance\["alpha,delta"\]: unknown strategy 'delta'/,
      },
      {
        name: 'a schema violation (as_of not a date-time)',
        world: 'w-bad-asof',
        data: { as_of: 'yesterday' },
        reason: /data\.as_of: must be an ISO 8601 date-time/,
      },
    ];
    for (const c of cases) {
      it(`rejects ${c.name}`, async () => {
        await put({ world: c.world, version: 'v1', asOf: '2025-03-10T21:00:00Z', data: c.data });
        const rejections = await rejectionsFor(c.world);
        expect(rejections).toHaveLength(1);
        expect((rejections[0]!.reasons as string[]).join('\n')).toMatch(c.reason);
        // The raw event is kept so an operator can fix and redrive it.
        expect(String(rejections[0]!.raw_event)).toContain(c.world);
        expect(p.stack.outcomes.filter((o) => o.world_id === c.world)).toHaveLength(1);
        expect(emittedFor(c.world)).toHaveLength(0);
      });
    }

    it('counts rejections in the RejectedEvents metric by reason', () => {
      expect(recorder.counts.get('RejectedEvents:schema_violation')).toBeGreaterThanOrEqual(cases.length);
    });

    it('records an expired snapshot and does not evaluate it', async () => {
      const world = 'w-expired';
      const spec = { world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.05, ttlSec: 60 };
      const handler = createSnapshotHandler({
        engine: p.stack.engine,
        clock: () => Date.parse('2025-03-10T21:05:00Z'),
      });
      const outcome = await handler(
        eventBridgeEvent(cloudEvent(spec), '2025-03-10T21:00:10Z') as never,
        lambdaContext('t'),
      );
      expect(outcome).toMatchObject({ outcome: 'expired', expired_at: '2025-03-10T21:01:10.000Z' });
      const audit = await p.read.audit(world);
      expect(audit.map((r) => r.kind)).toEqual(['expired']);
      expect(await p.read.signals(world)).toHaveLength(0);
    });

    it('rejects an oversize detail with its size', async () => {
      const world = 'w-oversize';
      const big = cloudEvent({
        world,
        version: 'v1',
        asOf: '2025-03-10T21:00:00Z',
        data: { padding: 'x'.repeat(300_000) },
      });
      const handler = createSnapshotHandler({
        engine: p.stack.engine,
        clock: () => Date.parse('2025-03-10T21:00:20Z'),
      });
      const outcome = await handler(
        eventBridgeEvent(big, '2025-03-10T21:00:10Z') as never,
        lambdaContext('t'),
      );
      expect(outcome).toMatchObject({ outcome: 'rejected' });
      const [rejection] = await rejectionsFor(world);
      expect((rejection!.reasons as string[])[0]).toMatch(
        /^detail: \d+ bytes, over EventBridge's 262144-byte limit/,
      );
    });

    it('rejects a detail that is not a JSON object, and the bus refuses unparsable JSON', async () => {
      const handler = createSnapshotHandler({ engine: p.stack.engine, clock: () => Date.now() });
      const outcome = await handler(
        eventBridgeEvent('{"world_id": "w-string"', '2025-03-10T21:00:10Z') as never,
        lambdaContext('t'),
      );
      expect(outcome).toMatchObject({ outcome: 'rejected', world_id: '_unknown' });
      const out = await p.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: LOCAL_BUS_NAME,
              Source: 's',
              DetailType: 'risk_snapshot_updated',
              Detail: '{not json',
            },
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(1);
      expect(out.Entries?.[0]?.ErrorCode).toBe('MalformedDetail');
    });

    it('sent nothing to the dead-letter queue: bad input is not retried', () => {
      expect(p.stack.bus.deadLetters()).toHaveLength(0);
    });
  });
});
