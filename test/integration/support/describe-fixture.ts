import { afterAll, beforeAll } from 'vitest';

/**
 * A resource for the enclosing `describe`: `start` runs in its `beforeAll` (after the hooks registered
 * before this call, so it may read what they started), `stop` in its `afterAll`. The returned object
 * stands for the started value: its members are usable inside tests and later hooks, and reading one
 * earlier throws, saying so.
 */
export function describeFixture<T extends object>(start: () => Promise<T>, stop: (value: T) => unknown): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value) await stop(value);
  });
  return new Proxy({} as T, {
    get(_, key) {
      if (!value)
        throw new Error(
          `read ${String(key)} before beforeAll started it: use it inside a test or a later hook`,
        );
      return Reflect.get(value, key);
    },
  });
}
