import type { EngineEvent, ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { SignalPublisher } from '#lib/engine/ports.js';

/**
 * A publisher that keeps every event it is given, in order, instead of putting it on a bus: what
 * the gateway (and ops tooling) would have received. For replay and tests.
 */
export class InMemoryPublisher implements SignalPublisher {
  private readonly events: EngineEvent[] = [];

  async publish(events: readonly EngineEvent[]): Promise<void> {
    // Copied as the bus would serialize them, so later changes by the caller cannot leak in.
    for (const event of events) this.events.push(JSON.parse(JSON.stringify(event)) as EngineEvent);
  }

  /** Every published event, in publish order. */
  published(): EngineEvent[] {
    return [...this.events];
  }

  /** The `exit_signal_emitted` events only: what the gateway would have received. */
  exitSignals(): ExitSignalEvent[] {
    return this.events.filter((e): e is ExitSignalEvent => e.type === 'exit_signal_emitted');
  }
}
