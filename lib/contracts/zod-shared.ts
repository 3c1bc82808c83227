import * as z from 'zod/mini';
import { _isoDateTime } from 'zod/v4/core';
import './zod-messages.js';

/**
 * Schema pieces every contract module uses, built once. A schema costs its construction when its
 * module loads (README, Cold start), so a field that is just a string shares one instance.
 */

/** Any string: one instance for every field that only has to be a string. */
export const text = z.string();

/**
 * `z.iso.datetime(params)`, built without the `z.iso` namespace: reading it keeps every ISO schema
 * (date, time, duration: their types, regexes and constructors) in the bundle and builds them at
 * load, where the functions use only the date-time. The same factory and class `z.iso.datetime` calls.
 */
export function isoDateTime(params?: Parameters<typeof z.iso.datetime>[0]): z.ZodMiniISODateTime {
  return _isoDateTime(z.ZodMiniISODateTime, params);
}
