import { describe, expect, it } from 'vitest';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { latestRecord } from '#lib/engine/records.js';
import { engineStoreContract } from '#test/support/ports/engine-store-contract.js';

engineStoreContract('InMemoryEngineStore', async () => {
  const store = new InMemoryEngineStore();
  return {
    store,
    signals: async () => store.allSignals().sort((a, b) => a.signal_id.localeCompare(b.signal_id)),
    audit: async () =>
      store
        .allAudit()
        .sort((a, b) => a.world_id.localeCompare(b.world_id) || a.record_id.localeCompare(b.record_id)),
    putMute: async (mute) => store.putMute(mute),
    snapshotBodies: async () => store.snapshotBodies(),
  };
});

describe('InMemoryPublisher', () => {
  it('keeps every event in publish order, as copies', async () => {
    const publisher = new InMemoryPublisher();
    const first = { id: 'e1', type: 'exit_signal_emitted' } as unknown as EngineEvent;
    await publisher.publish([first, { id: 'e2', type: 'exit_signal_proposed' } as unknown as EngineEvent]);
    await publisher.publish([{ id: 'e3', type: 'exit_signal_emitted' } as unknown as EngineEvent]);
    (first as { id: string }).id = 'changed';
    expect(publisher.published().map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    expect(publisher.exitSignals().map((e) => e.id)).toEqual(['e1', 'e3']);
  });
});

describe('InMemoryEngineStore snapshot bodies', () => {
  it('keeps only the body the latest record points at, so a long replay holds one per world', async () => {
    const store = new InMemoryEngineStore();
    for (let i = 0; i < 5; i++) {
      const data = {
        world_id: 'w1',
        as_of: new Date(Date.UTC(2025, 2, 10, 21, i)).toISOString(),
        version: `v${i}`,
        weights: { [`s${i}`]: 1 },
      };
      await store.advanceLatestSnapshot(latestRecord(data, `t${i}`, `ce${i}`), data);
    }
    expect(store.snapshotBodies()).toBe(1);
    const latest = await store.getLatestSnapshot('w1');
    expect((await store.getSnapshotData(latest!))?.weights).toEqual({ s4: 1 });
  });
});
