import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { usePipeline } from './support/pipeline.js';
import { cloudEvent } from './support/snapshots.js';

/** A snapshot entry whose CloudEvent the test bends out of bounds. */
function entry(world: string, bend: (ce: Record<string, unknown>) => void): PutEventsRequestEntry {
  const ce = cloudEvent({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.034 });
  bend(ce);
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: 'qmtl.services.worldservice',
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify(ce),
  };
}

const data = (ce: Record<string, unknown>) => ce.data as Record<string, unknown>;

/** An object nested `depth` levels deep, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('input bounds at the edge: every oversize input is recorded, never retried into the DLQ', () => {
  const p = usePipeline({ name: 'bounds', clock: 'event-time' });
  const send = (e: PutEventsRequestEntry) => p.put(e);
  const rejections = async (world: string) =>
    (await p.read.audit(world)).filter((r) => r.kind === 'rejection');

  const cases: {
    name: string;
    world: string;
    file: string;
    bend: (ce: Record<string, unknown>) => void;
    reason: RegExp;
  }[] = [
    {
      name: 'a world id of 3,000 characters (hash key over 2,048 bytes)',
      world: 'w-long',
      file: '_unknown',
      bend: (ce) => {
        data(ce).world_id = `w-long-${'x'.repeat(3_000)}`;
      },
      reason: /detail\.data\.world_id: 3007 bytes, over the 128-byte limit/,
    },
    {
      name: 'a CloudEvent id over 1,024 bytes (an audit sort key)',
      world: 'w-long-id',
      file: 'w-long-id',
      bend: (ce) => {
        ce.id = 'i'.repeat(2_000);
      },
      reason: /detail\.id: 2000 bytes, over the 256-byte limit/,
    },
    {
      name: 'an idempotency key of 215 KB',
      world: 'w-long-key',
      file: 'w-long-key',
      bend: (ce) => {
        data(ce).idempotency_key = 'k'.repeat(215_000);
      },
      reason: /detail\.data\.idempotency_key: 215000 bytes/,
    },
    {
      name: 'a strategy id over the limit',
      world: 'w-long-strategy',
      file: 'w-long-strategy',
      bend: (ce) => {
        data(ce).weights = { [`s-${'y'.repeat(500)}`]: 1 };
      },
      reason: /detail\.data\.weights\["s-y+…"\]: key of 502 bytes/,
    },
    {
      name: 'nesting 2,000 levels deep',
      world: 'w-deep',
      file: 'w-deep',
      bend: (ce) => {
        data(ce).constraints = nested(2_000);
      },
      reason: /event: nested deeper than 32 levels/,
    },
  ];

  for (const c of cases) {
    it(`records ${c.name}`, async () => {
      await send(entry(c.world, c.bend));
      const found = await rejections(c.file);
      const mine = found.filter((r) => c.reason.test((r.reasons as string[]).join('\n')));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ category: 'input_bounds' });
      expect(p.stack.bus.deadLetters()).toHaveLength(0);
    }, 60_000);
  }

  it('keeps the first 50 reasons of 9,000 and counts them all', async () => {
    const world = 'w-many-reasons';
    await send(
      entry(world, (ce) => {
        data(ce).weights = Object.fromEntries(Array.from({ length: 9_000 }, (_, i) => [`s${i}`, 'bad']));
      }),
    );
    const [r] = await rejections(world);
    expect(r).toBeDefined();
    expect(r!.reasons_total).toBeGreaterThanOrEqual(9_000);
    const reasons = r!.reasons as string[];
    expect(reasons).toHaveLength(51);
    expect(reasons[50]).toMatch(/^…and \d+ more$/);
    expect(p.stack.bus.deadLetters()).toHaveLength(0);
  }, 60_000);
});
