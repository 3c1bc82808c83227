import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createApprovalTimeoutHandler } from '#lib/handlers/approval-timeout-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireOps } from '#lib/runtime/wire-ops.js';

/** Lambda entry for the every-minute sweep: wiring only; config is validated at cold start. */
const config = loadConfig();
const engine = wireEngine(config);

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createApprovalTimeoutHandler({
  ops: wireOps(config, engine),
  store: engine.store,
  clock: () => Date.now(),
  perWorldFreshness: config.PER_WORLD_METRICS ? 'all' : config.MONITORED_WORLDS,
  engine: new ExitEngine(engine),
});
