import type { EngineDeps } from '#lib/engine/engine-context.js';

/**
 * The settings every in-memory ExitEngine of the unit tests shares: refs that are not expected (a
 * resolve fails naming the uri), silent metrics and logger, a 30 s lease, 30-day retention, market data
 * fresh for an hour. A test passes its store, publisher, rule sets and clock, and overrides what it
 * watches (e.g. its own metrics to count with).
 */
export function testEngineDeps(
  deps: Pick<EngineDeps, 'store' | 'publisher' | 'ruleSets' | 'wallClock'> & Partial<EngineDeps>,
): EngineDeps {
  return {
    refs: { resolve: async (uri) => Promise.reject(new Error(`no refs in this test: ${uri}`)) },
    metrics: { count() {}, measure() {} },
    logger: { info() {}, warn() {}, error() {} },
    engineVersion: 'test',
    leaseMs: 30_000,
    signalRetentionDays: 30,
    auditRetentionDays: 30,
    marketMaxAgeMs: 3_600_000,
    ...deps,
  };
}
