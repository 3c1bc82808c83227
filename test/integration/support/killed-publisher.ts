import type { EngineDeps } from '#lib/engine/engine.js';
import type { SignalPublisher } from '#lib/engine/ports.js';

/**
 * Engine overrides for the crash between commit and publish: `die` makes the next publishes vanish the way
 * a killed invocation does (nothing reaches the bus, nothing is handed back, so the outbox stays held
 * until its lease ends), and `offsetMs` moves the engine's wall clock forward as time passing would
 * (leases expire on it). Pass `overrides` to the pipeline.
 */
export function killedPublisher() {
  const faults = {
    die: 0,
    offsetMs: 0,
    overrides: (deps: EngineDeps): Partial<EngineDeps> => ({
      publisher: dying(deps.publisher),
      wallClock: () => Date.now() + faults.offsetMs,
    }),
  };
  const dying = (real: SignalPublisher): SignalPublisher => ({
    async publish(events, options) {
      if (faults.die > 0) {
        faults.die--;
        throw new Error('simulated: the invocation was killed during PutEvents');
      }
      return real.publish(events, options);
    },
  });
  return faults;
}
