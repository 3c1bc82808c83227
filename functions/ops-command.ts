import { loadConfig } from '#lib/config.js';
import { createOpsHandler } from '#lib/handlers/ops-handler.js';
import { tracingReady } from '#lib/observability.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireOps } from '#lib/runtime/wire-ops.js';

/** Lambda entry for the ops Function URL (AWS_IAM): wiring only; config is validated at cold start. */
const config = loadConfig();
const ops = wireOps(config, wireEngine(config));

// The Tracer is loaded and patches http(s) before the first invocation (nothing to wait for outside Lambda).
await tracingReady();

export const handler = createOpsHandler({ ops, clock: () => Date.now() });
