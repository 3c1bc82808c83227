import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { PublishDeferredError, PublishError } from './errors.js';
import type {
  ClaimResult,
  EngineLogger,
  EngineMetrics,
  EngineStore,
  EvaluationRecord,
  SignalItem,
  SignalPublisher,
} from './ports.js';

/**
 * The claim / lease / outbox protocol: who may evaluate an event, and who may publish what an
 * evaluation decided. Exactly one publication per outbox holds by construction (README, Delivery):
 *
 * 1. The publish lease outlives the invocation that holds it: it runs to the invocation's own
 *    deadline (`remainingMs`) plus the publish window plus a clock-skew allowance.
 * 2. Immediately before PutEvents the holder passes the fence, a conditional write that succeeds
 *    only while it is still the owner and its lease runs at least a publish window (plus skew)
 *    longer. A taken-over owner fails the fence and never publishes.
 * 3. The publisher starts no PutEvents call after the window ends and abandons any still running
 *    then, so every call of the holder is over before anyone else can acquire the lease.
 * 4. The outbox is handed back early only after a definite failure (the bus answered, refusing
 *    entries); events the bus accepted are remembered and never sent again. After an unanswered
 *    call the lease runs out first, and the retry (or the sweeper) publishes again: the one case
 *    in which the gateway can see an event twice, which its dedupe on idempotency_key absorbs.
 */
export interface OutboxDeps {
  store: EngineStore;
  publisher: SignalPublisher;
  metrics: EngineMetrics;
  logger: EngineLogger;
  /** How long an evaluation claim protects an evaluation from a concurrent duplicate. */
  leaseMs: number;
  /** The longest a publish may take: PutEvents calls start and end inside it. */
  publishWindowMs: number;
  /** Allowance for clocks of different hosts disagreeing. */
  clockSkewMs: number;
  /** Wall-clock time for leases, which must expire in real time even when replaying history. */
  wallClock: () => number;
}

/** Who is acting, and how long it has left (Lambda's `getRemainingTimeInMillis`). */
export interface Invocation {
  id: string;
  remainingMs: () => number;
}

/** What one sweep did; the age is of the oldest outbox it found and could not complete. */
export interface SweepReport {
  found: number;
  published: number;
  failed: number;
  oldest_pending_age_sec: number;
}

/** What finishing a stored outbox did. */
export type CompleteResult = 'published' | 'already_published' | 'in_flight' | 'lost_lease';

/**
 * The signal rows stored as soon as an evaluation commits: all but those its outbox publishes,
 * whose rows `markPublished` writes once the bus has them (so a row is written once, never
 * pending and then rewritten; see EngineStore.markPublished).
 */
export function rowsBeforePublish(items: readonly SignalItem[]): SignalItem[] {
  return items.filter((i) => i.event_id === undefined);
}

export class OutboxProtocol {
  constructor(private readonly deps: OutboxDeps) {}

  /** Claims an evaluation for this invocation; refused while someone else's lease runs. */
  claim(world: string, evaluationKey: string, inv: Invocation): Promise<ClaimResult> {
    const now = this.deps.wallClock();
    return this.deps.store.claimEvaluation(world, evaluationKey, inv.id, now + this.deps.leaseMs, now);
  }

  /** Ends our claim early after a failure, so the retry need not wait out the lease. */
  releaseClaim(world: string, evaluationKey: string, inv: Invocation): Promise<void> {
    return this.deps.store.releaseClaim(world, evaluationKey, inv.id);
  }

  /** The end of a publish lease taken now: past this invocation's deadline by a whole window. */
  publishLeaseUntil(inv: Invocation): number {
    const remaining = Math.max(0, inv.remainingMs());
    return this.deps.wallClock() + remaining + this.deps.publishWindowMs + this.deps.clockSkewMs;
  }

  /**
   * Publishes an outbox this invocation holds (it committed it, or acquired it), fenced: returns
   * `lost_lease` without publishing when the lease has passed to someone else.
   */
  async publishHeld(
    world: string,
    evaluationKey: string,
    events: readonly EngineEvent[],
    items: readonly SignalItem[],
    inv: Invocation,
    alreadyPublished: readonly string[] = [],
  ): Promise<'published' | 'lost_lease'> {
    const { store, publisher, metrics, logger } = this.deps;
    const done = new Set(alreadyPublished);
    const toSend = events.filter((e) => !done.has(e.id));
    const needed = this.deps.publishWindowMs + this.deps.clockSkewMs;
    if (inv.remainingMs() < needed) {
      // Nothing sent: handing the outbox back is safe, and the retry or the sweeper publishes it.
      await store.releasePublish(world, evaluationKey, inv.id);
      metrics.count('PublishDeferred', 1);
      throw new PublishDeferredError(
        `only ${inv.remainingMs()} ms of the invocation left, a publish needs ${needed} ms; deferred to a retry`,
      );
    }
    const now = this.deps.wallClock();
    if (!(await store.fencePublish(world, evaluationKey, inv.id, now + needed))) {
      metrics.count('PublishFenced', 1);
      logger.warn('publish lease passed to another invocation; not publishing', {
        world_id: world,
        evaluation_key: evaluationKey.slice(0, 16),
      });
      return 'lost_lease';
    }
    try {
      if (toSend.length > 0) await publisher.publish(toSend, { deadlineMs: now + this.deps.publishWindowMs });
    } catch (error) {
      if (error instanceof PublishError && !error.ambiguous) {
        // The bus answered: what it refused was not published, what it accepted must not be again.
        const accepted = error.accepted.map((i) => toSend[i]!.id);
        await store.releasePublish(world, evaluationKey, inv.id, accepted).catch(() => undefined);
      } else if (error instanceof PublishError) {
        // No answer: the bus may hold these events already. The retry republishes them with the
        // same ids and idempotency keys, so the gateway may see them twice and must dedupe (README).
        metrics.count('PublishAmbiguous', 1);
        logger.warn('PutEvents gave no answer; the outbox will be republished and may reach the bus twice', {
          world_id: world,
          evaluation_key: evaluationKey.slice(0, 16),
        });
      }
      throw error;
    }
    const ids = new Set(events.map((e) => e.id));
    const published = items.filter((i) => i.event_id !== undefined && ids.has(i.event_id));
    await store.markPublished(world, evaluationKey, published, events[0]!.time);
    for (const e of toSend) {
      if (e.type !== 'exit_signal_emitted') continue;
      for (const s of e.data.signals)
        metrics.count('SignalsEmitted', 1, { world, reason: s.reason ?? 'unknown' });
    }
    return 'published';
  }

  /**
   * A committed evaluation seen again (a redelivery, or the sweeper): publishes its outbox if it is
   * still pending and no one else's lease runs. A running lease means its holder is publishing (or
   * will be completed by a retry or the sweeper once the lease ends): nothing to do here.
   */
  async complete(
    record: EvaluationRecord,
    inv: Invocation,
    /**
     * takeOver: the caller knows the lease holder is dead (a local runtime restarted on its own data
     * directory, which only one runtime may hold), so a running lease does not stop it.
     */
    options: { takeOver?: boolean } = {},
  ): Promise<CompleteResult> {
    if (record.outbox_status !== 'pending' || !record.events || record.events.length === 0)
      return 'already_published';
    const { store } = this.deps;
    const acquired = await store.acquirePublish(
      record.world_id,
      record.evaluation_key,
      inv.id,
      this.publishLeaseUntil(inv),
      options.takeOver ? Number.MAX_SAFE_INTEGER : this.deps.wallClock(),
    );
    if (!acquired.claimed) {
      if (acquired.current?.outbox_status === 'pending') {
        this.deps.metrics.count('PublishInFlight', 1);
        return 'in_flight';
      }
      return 'already_published';
    }
    const items = record.signal_items ?? [];
    await store.putSignals(rowsBeforePublish(items));
    return this.publishHeld(
      record.world_id,
      record.evaluation_key,
      record.events,
      items,
      inv,
      record.published_event_ids,
    );
  }

  /** Completes pending outboxes whose lease ran out (the scheduled sweeper), oldest first. */
  async sweep(inv: Invocation, limit: number): Promise<SweepReport> {
    const { store, logger } = this.deps;
    const stuck = await store.listStuckOutboxes(this.deps.wallClock(), limit);
    let published = 0;
    let failed = 0;
    let oldestLeftMs: number | undefined;
    const now = this.deps.wallClock();
    for (const s of stuck) {
      // Leave room for a whole fenced publish; the next run takes the rest.
      if (inv.remainingMs() < 2 * (this.deps.publishWindowMs + this.deps.clockSkewMs)) break;
      try {
        const record = await store.getEvaluation(s.world_id, s.evaluation_key);
        if (!record) continue;
        if ((await this.complete(record, inv)) === 'published') {
          published++;
          continue;
        }
      } catch (error) {
        failed++;
        logger.error('sweeper could not complete an outbox; the next run retries it', {
          world_id: s.world_id,
          evaluation_key: s.evaluation_key.slice(0, 16),
          error: (error as Error).message,
        });
      }
      const since = Date.parse(s.completed_at);
      if (Number.isFinite(since)) oldestLeftMs = Math.max(oldestLeftMs ?? 0, now - since);
    }
    this.deps.metrics.count('OutboxesSwept', published);
    const oldest = Math.round((oldestLeftMs ?? 0) / 1000);
    this.deps.metrics.measure('OldestPendingOutboxAgeSeconds', oldest, 'Seconds');
    return { found: stuck.length, published, failed, oldest_pending_age_sec: oldest };
  }
}
