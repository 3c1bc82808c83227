import * as z from 'zod/mini';
import { isoDateTime, text } from './zod-shared.js';

/**
 * The EventBridge envelope as Lambda receives it. Our own copy of Powertools' `EventBridgeSchema`:
 * Powertools imports zod as a named `z`, which esbuild cannot tree-shake, and that alone put
 * ~370 KB of zod (every locale) into the bundle (see README, Speed). Its fields, not a schema: each
 * function builds the one envelope it receives, with its `detail`, and no base schema to extend.
 */
const ENVELOPE_FIELDS = {
  version: text,
  id: text,
  'detail-type': text,
  source: text,
  account: text,
  time: isoDateTime({ offset: true }),
  region: text,
  resources: z.array(text),
  'replay-name': z.optional(text),
};

/** The envelope with a typed `detail`. */
export function eventBridgeEvent<T extends z.core.$ZodType>(detail: T) {
  return z.looseObject({ ...ENVELOPE_FIELDS, detail });
}
