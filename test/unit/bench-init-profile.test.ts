import { describe, expect, it } from 'vitest';
import { profileGrowth } from '../../bench/init-profile.js';

describe('profileGrowth (what tracing on adds to a profile)', () => {
  it('ranks buckets by how much they grew, counting a new bucket whole and a shrunk one negative', () => {
    const off = {
      runs: 3,
      totalMs: 100,
      buckets: [
        { name: 'zod', ms: 10 },
        { name: '@smithy/core', ms: 30 },
        { name: '(garbage collector)', ms: 20 },
      ],
    };
    const on = {
      runs: 3,
      totalMs: 190,
      buckets: [
        { name: 'zod', ms: 9 },
        { name: '@smithy/core', ms: 45 },
        { name: '(garbage collector)', ms: 26 },
        { name: 'aws-xray-sdk-core', ms: 40 },
      ],
    };
    expect(profileGrowth(off, on, 3)).toEqual([
      { name: 'aws-xray-sdk-core', ms: 40 },
      { name: '@smithy/core', ms: 15 },
      { name: '(garbage collector)', ms: 6 },
    ]);
    expect(profileGrowth(off, on).at(-1)).toEqual({ name: 'zod', ms: -1 });
  });
});
