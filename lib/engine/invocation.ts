import type { Invocation } from './outbox.js';

/** Without a deadline (replay, the CLI), the invocation is taken to last this long. */
const DEFAULT_INVOCATION_MS = 30_000;

/** An invocation with its deadline; none given (replay, the CLI): the default length. */
export function invocation(id: string, remainingMs: (() => number) | undefined): Invocation {
  return { id, remainingMs: remainingMs ?? (() => DEFAULT_INVOCATION_MS) };
}
