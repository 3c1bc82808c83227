import type { MarketReevaluationQueue, MarketReevaluationRequest } from '#lib/engine/ports.js';

/**
 * Market re-evaluation requests kept in order in memory, for a replay to run one by one through the
 * same per-world use case the bus delivers them to (replay has no bus).
 */
export class InMemoryMarketReevaluationQueue implements MarketReevaluationQueue {
  private pending: MarketReevaluationRequest[] = [];

  async request(requests: readonly MarketReevaluationRequest[]): Promise<void> {
    this.pending.push(...requests.map((r) => ({ ...r })));
  }

  /** Removes and returns every request waiting, oldest first. */
  take(): MarketReevaluationRequest[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}
