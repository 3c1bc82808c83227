/**
 * A function's reserved concurrency, locally: at most `limit` invocations run at once; the rest wait
 * in order, as Lambda keeps throttled asynchronous events in its queue and runs them as capacity frees.
 */
export class ReservedConcurrency {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`reserved concurrency: ${limit} is not a whole number ≥ 1`);
  }

  /** Runs `fn` once a slot is free; the wait is not part of the invocation (its deadline starts in `fn`). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` never dips and lets a newcomer jump the line.
      if (next) next();
      else this.running--;
    }
  }

  /** Invocations running now. */
  get active(): number {
    return this.running;
  }
}
