import { describe, expect, it } from 'vitest';
import type { LatestSnapshot } from '#lib/engine/ports.js';
import { reportSnapshotFreshness } from '#lib/handlers/approval-timeout-handler.js';

describe('reportSnapshotFreshness', () => {
  it('reports, per world, the seconds since its latest hub snapshot', async () => {
    const latest: Record<string, Pick<LatestSnapshot, 'as_of_ms'>> = {
      'w-a': { as_of_ms: Date.parse('2025-03-10T21:00:00Z') },
      'w-b': { as_of_ms: Date.parse('2025-03-10T20:00:00Z') },
    };
    const store = {
      listWorlds: async () => ['w-a', 'w-b', 'w-gone'],
      getLatestSnapshot: async (w: string) => latest[w] as LatestSnapshot | undefined,
    };
    const ages = await reportSnapshotFreshness(store, Date.parse('2025-03-10T21:01:30Z'));
    // 90 s after w-a's as_of; an hour more for w-b; a world with no latest item is left out.
    expect(ages).toEqual({ 'w-a': 90, 'w-b': 3690 });
  });
});
