import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { createOutboxSweeperHandler } from '#lib/handlers/outbox-sweeper-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine } from '#lib/runtime/wire.js';

/** Lambda entry for the every-minute outbox sweep: wiring only; config is validated at cold start. */
const engine = new ExitEngine(wireEngine(loadConfig()));

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createOutboxSweeperHandler({ engine });
