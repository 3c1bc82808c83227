import { describe, expect, it } from 'vitest';
import { callTimeout } from '#lib/adapters/signed-http.js';

describe('callTimeout (one call’s time-out, its timer cleared when the call is over)', () => {
  it('aborts with a TimeoutError naming the time once the time is up', async () => {
    const timeout = callTimeout(5);
    expect(timeout.signal.aborted).toBe(false);
    await new Promise((resolve) => timeout.signal.addEventListener('abort', resolve));
    expect(timeout.signal.aborted).toBe(true);
    expect(timeout.signal.reason).toMatchObject({ name: 'TimeoutError', message: 'no answer in 5 ms' });
  });

  it('never aborts once cleared, and leaves no timer behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timeout = callTimeout(5);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1);
    timeout.clear();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(timeout.signal.aborted).toBe(false);
  });
});
