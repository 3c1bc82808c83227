/**
 * A function's reserved concurrency, locally: at most `limit` invocations run at once; the rest wait
 * in order, as Lambda keeps throttled asynchronous events in its queue and runs them as capacity frees.
 */
export class ReservedConcurrency {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private held: Promise<void> | undefined;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`reserved concurrency: ${limit} is not a whole number ≥ 1`);
  }

  /** Runs `fn` once a slot is free; the wait is not part of the invocation (its deadline starts in `fn`). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.held) await this.held;
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

  /**
   * Starts no new invocation until the returned function is called (what is running finishes): the
   * bench times the market invocation alone, as it runs in a Lambda of its own on AWS, not sharing
   * this process with the evaluations it causes.
   */
  hold(): () => void {
    let release = () => {};
    this.held ??= new Promise<void>((resolve) => {
      release = () => {
        this.held = undefined;
        resolve();
      };
    });
    return release;
  }

  /** Invocations running now. */
  get active(): number {
    return this.running;
  }
}
