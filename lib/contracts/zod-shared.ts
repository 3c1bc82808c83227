import * as z from 'zod/mini';
import { _isoDateTime, $ZodCheckNumberFormat } from 'zod/v4/core';
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

/**
 * `z.int(message)` as the check alone, for `.check()`. `z.int()` builds a whole number schema that
 * `.check()` only ever runs as its check, and that schema is a type of its own to set up at load (its
 * prototype's members, its initializers' compile). The same check class, definition and message.
 */
export function int(message?: string): $ZodCheckNumberFormat {
  return new $ZodCheckNumberFormat({
    check: 'number_format',
    format: 'safeint',
    abort: false,
    ...(message === undefined ? {} : { error: () => message }),
  });
}
