import type { EventPattern } from 'aws-cdk-lib/aws-events';
import type { RoutePattern } from '#lib/contracts/routes.js';

/** A route from lib/contracts/routes.ts in the CDK's spelling (`detailType` for `detail-type`). */
export function cdkEventPattern(route: RoutePattern): EventPattern {
  return { ...(route.source ? { source: route.source } : {}), detailType: route['detail-type'] };
}
