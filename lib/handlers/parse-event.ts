import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import type middy from '@middy/core';
import * as z from 'zod';
import { boundViolations } from './input-bounds.js';

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
  'replay-name': z.string().optional(),
});

/** The envelope with a typed `detail`. */
export function eventBridgeEvent<T extends z.ZodType>(detail: T) {
  return EventBridgeEnvelopeSchema.extend({ detail });
}

/**
 * Validates the event at the edge, like Powertools' parser middleware with `safeParse: true`: the
 * handler gets `{ success: true, data }` or `{ success: false, error, originalEvent }` (the error's
 * `cause` holds the zod issues), so a bad event is recorded instead of retried.
 */
export function parseEvent<T extends z.ZodType>(schema: T): middy.MiddlewareObj<unknown> {
  return {
    before(request) {
      // Bounds first: nothing recursive touches an over-deep event, no over-long id reaches a key.
      const violations = boundViolations(request.event);
      if (violations.length > 0) {
        request.event = {
          success: false,
          error: Object.assign(new Error('Event exceeds input bounds'), {
            name: 'BoundsError',
            cause: violations.map((line) => ({ message: line, path: [] })),
            category: 'input_bounds',
          }),
          originalEvent: request.event,
        } satisfies ParsedResult<unknown, z.infer<T>>;
        return;
      }
      const result = schema.safeParse(request.event);
      const parsed: ParsedResult<unknown, z.infer<T>> = result.success
        ? { success: true, data: result.data }
        : {
            success: false,
            error: Object.assign(new Error('Failed to parse schema'), {
              name: 'ParseError',
              cause: result.error.issues,
            }),
            originalEvent: request.event,
          };
      request.event = parsed;
    },
  };
}
