import { RetryableError } from './errors.js';
import type { Invocation } from './outbox.js';

/** Without a deadline (replay, the CLI), the invocation is taken to last this long. */
const DEFAULT_INVOCATION_MS = 30_000;

/** An invocation with its deadline; none given (replay, the CLI): the default length. */
export function invocation(id: string, remainingMs: (() => number) | undefined): Invocation {
  return { id, remainingMs: remainingMs ?? (() => DEFAULT_INVOCATION_MS) };
}

/**
 * Runs `fn` over the items, at most `limit` at once; stops starting new ones when the invocation
 * is nearly out of time. Every started one finishes; then the first retryable failure (or
 * running out of time) is thrown so the delivery is retried, and what completed dedupes.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  inv: Invocation,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  const errors: unknown[] = [];
  let next = 0;
  let outOfTime = false;
  const worker = async () => {
    while (next < items.length) {
      if (inv.remainingMs() < MARKET_TIME_RESERVE_MS) {
        outOfTime = true;
        return;
      }
      const item = items[next++]!;
      try {
        results.push(await fn(item));
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  if (outOfTime)
    throw new RetryableError(
      `market fan-out: ${items.length - next} of ${items.length} worlds left when the invocation ran low on time`,
    );
  return results;
}

/** Time a market fan-out keeps back for the evaluations it has started. */
const MARKET_TIME_RESERVE_MS = 12_000;
