import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { usePipeline } from './support/pipeline.js';
import { marketPutEntry, putEntry } from './support/snapshots.js';

function marketEntry(id: string, asOf: string, vix: number, worlds?: string[]): PutEventsRequestEntry {
  return marketPutEntry(id, asOf, vix, LOCAL_BUS_NAME, worlds);
}

describe('market data re-evaluates the latest fresh snapshot', () => {
  const p = usePipeline({
    name: 'market',
    rulesetsPath: 'test/fixtures/rulesets/market',
    clock: 'event-time',
  });
  const put = (entry: PutEventsRequestEntry) => p.put(entry);
  const emitted = (world: string) => p.emitted(world);

  it('exits on a VIX spike between two hub snapshots, and holds once it calms', async () => {
    const world = 'w-market';
    await put(
      putEntry({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.014 }, LOCAL_BUS_NAME),
    );
    expect(emitted(world)).toHaveLength(0);

    await put(marketEntry('m1', '2025-03-10T21:05:00Z', 45, [world]));
    const [spike] = emitted(world);
    expect(spike).toBeDefined();
    expect(
      spike!.data.signals.every((s) => s.action === 'exit' && s.reason === 'volatility_regime_breach'),
    ).toBe(true);
    expect(spike!.data.provenance).toMatchObject({
      trigger: 'market_snapshot_updated',
      source_event_id: 'm1',
      snapshot_as_of: '2025-03-10T21:00:00Z',
    });
    expect(spike!.data.snapshot_version).toBe('v1');

    // Older market data never overrides newer.
    await put(marketEntry('m0', '2025-03-10T21:01:00Z', 15, [world]));
    expect(emitted(world)).toHaveLength(1);

    await put(marketEntry('m2', '2025-03-10T21:10:00Z', 25, [world]));
    const calm = emitted(world)[1];
    expect(calm?.data.signals.every((s) => s.action === 'hold')).toBe(true);
    for (const e of emitted(world)) expect(upstreamValidator().exitSignal(e)).toBe('');
  });

  it('re-evaluates every known world when the market data names none', async () => {
    await put(
      putEntry(
        { world: 'w-all-1', version: 'v1', asOf: '2025-03-11T21:00:00Z', varLevel: 0.014 },
        LOCAL_BUS_NAME,
      ),
    );
    await put(
      putEntry(
        { world: 'w-all-2', version: 'v1', asOf: '2025-03-11T21:00:00Z', varLevel: 0.014 },
        LOCAL_BUS_NAME,
      ),
    );
    await put(marketEntry('m-all', '2025-03-11T21:05:00Z', 50));
    expect(emitted('w-all-1')).toHaveLength(1);
    expect(emitted('w-all-2')).toHaveLength(1);
  });

  it('does not revive an expired snapshot on market data (fail closed)', async () => {
    const world = 'w-market-expired';
    await put(
      putEntry(
        { world, version: 'v1', asOf: '2025-03-12T21:00:00Z', varLevel: 0.014, ttlSec: 60 },
        LOCAL_BUS_NAME,
      ),
    );
    await put(marketEntry('m-late', '2025-03-12T23:00:00Z', 60, [world]));
    expect(emitted(world)).toHaveLength(0);
    expect(p.stack.outcomes.filter((o) => o.world_id === world).map((o) => o.outcome)).toEqual([
      'no_signal',
      'expired',
    ]);
  });

  it('data.worlds means the worlds the data is for: others never see it, now or on their next snapshot', async () => {
    const [a, b] = ['w-scope-a', 'w-scope-b'];
    for (const world of [a, b])
      await put(
        putEntry({ world, version: 'v1', asOf: '2025-03-13T21:00:00Z', varLevel: 0.014 }, LOCAL_BUS_NAME),
      );
    await put(marketEntry('m-b-only', '2025-03-13T21:05:00Z', 55, [b]));
    expect(emitted(b)).toHaveLength(1);
    expect(emitted(a)).toHaveLength(0);
    // Was: `a`'s next snapshot read the global VIX 55 meant for `b` and exited.
    await put(
      putEntry({ world: a, version: 'v2', asOf: '2025-03-13T21:06:00Z', varLevel: 0.014 }, LOCAL_BUS_NAME),
    );
    expect(emitted(a)).toHaveLength(0);
    // Shared data (no list) is for every world, now and later.
    await put(marketEntry('m-shared', '2025-03-13T21:07:00Z', 60));
    expect(emitted(a)).toHaveLength(1);
    expect(emitted(a)[0]!.data.signals.every((s) => s.action === 'exit')).toBe(true);
  });
});

describe('rule modes through the pipeline', () => {
  const p = usePipeline({ name: 'modes', rulesetsPath: 'test/fixtures/rulesets/modes', clock: 'event-time' });

  it('publishes the enforce rule, stores shadow and approval signals without publishing them', async () => {
    const world = 'w-modes';
    await p.send(
      putEntry({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.03 }, LOCAL_BUS_NAME),
    );
    const published = p.stack.emitted.map((e) => e.detail as ExitSignalEvent);
    expect(published).toHaveLength(1);
    expect(
      published[0]!.data.signals.every((s) => s.action === 'reduce' && s.tags?.includes('rule:var_enforce')),
    ).toBe(true);
    expect(published[0]!.data.signals.some((s) => s.tags?.includes('rule:var_shadow'))).toBe(false);

    const stored = await p.read.signals(world);
    const byStatus = (status: string) => stored.filter((s) => s.status === status);
    expect(byStatus('published')).toHaveLength(3);
    expect(byStatus('shadow')).toHaveLength(3);
    expect(byStatus('proposed')).toHaveLength(3);
    for (const p of byStatus('proposed')) {
      expect(p).toMatchObject({ action: 'exit', reduction_ratio: 1, mode: 'approval' });
      expect(p.approval).toMatchObject({
        timeout_sec: 600,
        default: 'emit',
        deadline: '2025-03-10T21:10:10.000Z',
      });
    }
  });
});
