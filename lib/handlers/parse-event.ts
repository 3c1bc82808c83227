import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import type middy from '@middy/core';
import * as z from 'zod/mini';
import '#lib/contracts/zod-messages.js';
import { boundViolations } from './input-bounds.js';

export { eventBridgeEvent } from '#lib/contracts/eventbridge.js';

/**
 * Validates the event at the edge, like Powertools' parser middleware with `safeParse: true`: the
 * handler gets `{ success: true, data }` or `{ success: false, error, originalEvent }` (the error's
 * `cause` holds the zod issues), so a bad event is recorded instead of retried.
 */
export function parseEvent<T extends z.core.$ZodType>(schema: T): middy.MiddlewareObj<unknown> {
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
        } satisfies ParsedResult<unknown, z.output<T>>;
        return;
      }
      const result = z.safeParse(schema, request.event);
      const parsed: ParsedResult<unknown, z.output<T>> = result.success
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
