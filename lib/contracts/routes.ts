import { EXIT_ENGINE_SOURCE, EXIT_SIGNAL_DETAIL_TYPE } from './exit-signal.js';
import { MARKET_REEVALUATION_DETAIL_TYPE } from './market-reevaluation.js';
import { MARKET_SNAPSHOT_DETAIL_TYPE } from './market-snapshot.js';

/**
 * The event patterns that route events on the bus, defined once: the CDK stack builds its rules
 * from these and the local stack puts the same patterns on the local bus, so what reaches the
 * engine (and the gateway) is the same in both places. EventBridge's JSON form, as PutRule takes it.
 */

/** EventBridge's `detail-type` of a hub snapshot. */
export const RISK_SNAPSHOT_DETAIL_TYPE = 'risk_snapshot_updated';
/** The `source` the hub publishes snapshots with (upstream's world service), unless configured. */
export const DEFAULT_SNAPSHOT_SOURCE = 'qmtl.services.worldservice';
/** The `source` market data must carry unless configured: the market rule always filters on one. */
export const DEFAULT_MARKET_SOURCE = 'qmtl.services.market_data';

/** An event pattern over the envelope fields the engine routes on. */
export interface RoutePattern {
  source?: string[];
  'detail-type': string[];
}

/** Where the engine's inputs come from; absent fields take the defaults above. */
export interface RouteSources {
  /** `source` of `risk_snapshot_updated`; only this source reaches the evaluator. */
  snapshotSource?: string;
  /** `source` of `market_snapshot_updated`; only this source reaches the market re-evaluator. */
  marketSource?: string;
}

/** Hub snapshots to the snapshot evaluator: the configured hub source only. */
export function snapshotRoute(sources: RouteSources = {}): RoutePattern {
  return {
    source: [sources.snapshotSource ?? DEFAULT_SNAPSHOT_SOURCE],
    'detail-type': [RISK_SNAPSHOT_DETAIL_TYPE],
  };
}

/** Market data to the market re-evaluator: the configured market source only (a forged VIX from elsewhere is not routed). */
export function marketRoute(sources: RouteSources = {}): RoutePattern {
  return {
    source: [sources.marketSource ?? DEFAULT_MARKET_SOURCE],
    'detail-type': [MARKET_SNAPSHOT_DETAIL_TYPE],
  };
}

/**
 * The market function's per-world requests to the per-world re-evaluator: our own source (which only
 * the engine's roles may put) and our internal detail type, which no gateway route matches.
 */
export function marketReevaluationRoute(): RoutePattern {
  return { source: [EXIT_ENGINE_SOURCE], 'detail-type': [MARKET_REEVALUATION_DETAIL_TYPE] };
}

/** Our published exit signals to the gateway's subscriptions. */
export function gatewayRoute(): RoutePattern {
  return { source: [EXIT_ENGINE_SOURCE], 'detail-type': [EXIT_SIGNAL_DETAIL_TYPE] };
}
