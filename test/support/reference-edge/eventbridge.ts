// The EventBridge envelope as it was before round 6 of "Cold start" (README): the reference for
// test/unit/contracts/edge-schemas-differential.test.ts.
import * as z from 'zod/mini';
import '#lib/contracts/zod-messages.js';

/**
 * The EventBridge envelope as Lambda receives it. Our own copy of Powertools' `EventBridgeSchema`:
 * Powertools imports zod as a named `z`, which esbuild cannot tree-shake, and that alone put
 * ~370 KB of zod (every locale) into the bundle (see README, Speed).
 */
export const EventBridgeEnvelopeSchema = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime({ offset: true }),
  region: z.string(),
  resources: z.array(z.string()),
  'replay-name': z.optional(z.string()),
});

/** The envelope with a typed `detail`. */
export function eventBridgeEvent<T extends z.core.$ZodType>(detail: T) {
  return z.extend(EventBridgeEnvelopeSchema, { detail });
}
