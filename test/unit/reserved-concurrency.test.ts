import { describe, expect, it } from 'vitest';
import { ReservedConcurrency } from '#lib/local/reserved-concurrency.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ReservedConcurrency', () => {
  it('runs at most `limit` at once, the rest in arrival order', async () => {
    const limit = new ReservedConcurrency(2);
    const gates: (() => void)[] = [];
    const started: number[] = [];
    let peak = 0;
    const runs = [0, 1, 2, 3, 4].map((i) =>
      limit.run(async () => {
        started.push(i);
        peak = Math.max(peak, limit.active);
        await new Promise<void>((resolve) => gates.push(resolve));
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates.shift()!();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    while (started.length < 5 || gates.length > 0) {
      gates.shift()?.();
      await tick();
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limit.active).toBe(0);
  });

  it('frees the slot when an invocation fails', async () => {
    const limit = new ReservedConcurrency(1);
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
  });

  it('starts nothing while held, and everything waiting once released', async () => {
    const limit = new ReservedConcurrency(4);
    const release = limit.hold();
    let ran = 0;
    const runs = [1, 2, 3].map(() => limit.run(async () => ran++));
    await tick();
    expect(ran).toBe(0);
    release();
    await Promise.all(runs);
    expect(ran).toBe(3);
  });

  it('refuses a limit below 1 or not whole', () => {
    expect(() => new ReservedConcurrency(0)).toThrow(/not a whole number ≥ 1/);
    expect(() => new ReservedConcurrency(1.5)).toThrow(/not a whole number ≥ 1/);
  });
});
