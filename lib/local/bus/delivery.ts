/**
 * Delivery to targets as EventBridge does it for asynchronous targets: after PutEvents returns, a
 * failing target is retried with exponential backoff until its retry policy (attempts, event age)
 * runs out, then dead-lettered. Dead letters are announced when they happen and kept (the newest
 * in memory; listeners persist them), so none is silent and memory stays bounded.
 */
import type { EventBridgeEvent } from './put-events.js';

/** A rule target: called once per matching event, asynchronously; a rejection triggers a retry. */
export interface LocalTarget {
  readonly id: string;
  readonly invoke: (event: EventBridgeEvent) => Promise<unknown>;
}

/** How often and how long a failing target is retried before its event is dead-lettered. */
export interface RetryPolicy {
  /** Retries after the first attempt; EventBridge defaults to 185, here 2 keeps tests fast. */
  maximumRetryAttempts?: number;
  /** Give up once the event is older than this (EventBridge default: 24 h). */
  maximumEventAgeSeconds?: number;
  /** First retry delay in ms for this rule (else the bus's); doubles per attempt. */
  baseDelayMs?: number;
  /** Cap on a single retry delay in ms for this rule (else the bus's). */
  maxDelayMs?: number;
}

/** An event whose target kept failing, with the last error. */
export interface DeadLetter {
  readonly event: EventBridgeEvent;
  readonly ruleName: string;
  readonly targetId: string;
  readonly attempts: number;
  readonly error: unknown;
  /** When it was dead-lettered (ISO). */
  readonly at: string;
}

/** A rule's resolved retry settings. */
export interface DeliveryPolicy {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** How many dead letters stay in memory; every one still reaches the listeners. */
export const DEAD_LETTERS_KEPT = 1_000;

/** Runs deliveries with retries, tracks them for `drain`, and dead-letters what runs out of retries. */
export class DeliveryQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Map<NodeJS.Timeout, () => void>();
  private readonly dead: DeadLetter[] = [];
  private readonly deadListeners: Array<(letter: DeadLetter) => void> = [];
  private deadTotal = 0;
  private stopping = false;

  /** Starts a delivery in the background; PutEvents has returned by the time the target runs. */
  deliver(ruleName: string, policy: DeliveryPolicy, target: LocalTarget, event: EventBridgeEvent): void {
    const receivedAt = Date.now();
    const delivery = this.run(ruleName, policy, target, event, receivedAt);
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  /** Resolves once every delivery, including retries and deliveries they caused, has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Deliveries still running or waiting for a retry. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** The newest dead letters (at most DEAD_LETTERS_KEPT), oldest first. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  /** Every dead letter since start, including those no longer kept in memory. */
  get deadLetterCount(): number {
    return this.deadTotal;
  }

  /** Called for each dead letter as it happens (to print it, to append it to a file). */
  onDeadLetter(listener: (letter: DeadLetter) => void): () => void {
    this.deadListeners.push(listener);
    return () => {
      const i = this.deadListeners.indexOf(listener);
      if (i >= 0) this.deadListeners.splice(i, 1);
    };
  }

  /** Lets retries run again after a stop (the bus can be restarted). */
  resume(): void {
    this.stopping = false;
  }

  /** Cancels pending retries: a retry waiting on its backoff gives up now and is dead-lettered. */
  stop(): void {
    this.stopping = true;
    for (const [timer, wake] of this.retryTimers) {
      clearTimeout(timer);
      wake();
    }
    this.retryTimers.clear();
  }

  private async run(
    ruleName: string,
    policy: DeliveryPolicy,
    target: LocalTarget,
    event: EventBridgeEvent,
    receivedAt: number,
  ): Promise<void> {
    // Asynchronous like EventBridge → Lambda: the publisher's PutEvents returns first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await target.invoke(copyEvent(event));
        return;
      } catch (error) {
        const budgetMs = policy.maximumEventAgeSeconds * 1000 - (Date.now() - receivedAt);
        const retriesLeft = attempts <= policy.maximumRetryAttempts;
        if (!retriesLeft || budgetMs <= 0 || this.stopping) {
          this.deadLetter({ event, ruleName, targetId: target.id, attempts, error });
          return;
        }
        // The last wait ends when the event-age budget does, so the final attempt is within it.
        const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1), budgetMs);
        await this.sleep(delay);
        if (this.stopping) {
          this.deadLetter({ event, ruleName, targetId: target.id, attempts, error });
          return;
        }
      }
    }
  }

  private deadLetter(letter: Omit<DeadLetter, 'at'>): void {
    const full: DeadLetter = { ...letter, at: new Date().toISOString() };
    this.deadTotal++;
    this.dead.push(full);
    if (this.dead.length > DEAD_LETTERS_KEPT) this.dead.splice(0, this.dead.length - DEAD_LETTERS_KEPT);
    for (const listener of this.deadListeners) {
      try {
        listener(full);
      } catch {
        // A listener is an observer; its failure must not stop the others.
      }
    }
  }

  private sleep(delay: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        resolve();
      }, delay);
      this.retryTimers.set(timer, resolve);
    });
  }
}

/**
 * A target's own copy of the event. structuredClone recurses and overflows the stack on deeply
 * nested input (an event EventBridge itself would deliver); the engine must get such an event and
 * refuse it with a record, so the copy falls back to an iterative one.
 */
function copyEvent(event: EventBridgeEvent): EventBridgeEvent {
  try {
    return structuredClone(event);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const root: Record<string, unknown> = {};
    const stack: [unknown, Record<string, unknown> | unknown[]][] = [[event, root]];
    while (stack.length > 0) {
      const [from, to] = stack.pop()!;
      for (const [k, v] of Object.entries(from as object)) {
        let copy: unknown = v;
        if (v !== null && typeof v === 'object') {
          copy = Array.isArray(v) ? [] : {};
          stack.push([v, copy as Record<string, unknown>]);
        }
        (to as Record<string, unknown>)[k] = copy;
      }
    }
    return root as unknown as EventBridgeEvent;
  }
}
