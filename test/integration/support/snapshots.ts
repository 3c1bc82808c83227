import { randomUUID } from 'node:crypto';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  type MarketSnapshotCloudEvent,
  MarketSnapshotCloudEventSchema,
} from '#lib/contracts/market-snapshot.js';

/** Three strategies with independent returns: σ_P² = v·(0.5² + 0.3² + 0.2²) = 0.38·v. */
export const WEIGHTS = { alpha: 0.5, beta: 0.3, gamma: 0.2 } as const;

/** Per-strategy variance that puts 1-day 99% normal VaR (2.326·σ_P) at `varLevel`. */
export function varianceFor(varLevel: number): number {
  const sigmaP = varLevel / 2.3263478740408408;
  return (sigmaP * sigmaP) / 0.38;
}

export interface SnapshotSpec {
  world?: string;
  version: string;
  asOf: string;
  varLevel?: number;
  worstStress?: number;
  ttlSec?: number;
  data?: Record<string, unknown>;
}

/** A hub snapshot's `data`, as upstream publishes it. */
export function snapshotData(spec: SnapshotSpec): Record<string, unknown> {
  const v = varianceFor(spec.varLevel ?? 0.014);
  const world = spec.world ?? 'it-world';
  const hash = `sha256:${spec.version}`;
  return {
    world_id: world,
    as_of: spec.asOf,
    version: spec.version,
    weights: { ...WEIGHTS },
    covariance: {
      'alpha,alpha': v,
      'beta,beta': v,
      'gamma,gamma': v,
      'alpha,beta': 0,
      'alpha,gamma': 0,
      'beta,gamma': 0,
    },
    stress: { crash: { max_drawdown: spec.worstStress ?? 0.2 }, rates: { dd_max: 0.1 } },
    provenance: { actor: 'risk-hub', stage: 'paper' },
    hash,
    ttl_sec: spec.ttlSec ?? 900,
    created_at: new Date(Date.parse(spec.asOf) + 10_000).toISOString(),
    event_version: 1,
    idempotency_key: `risk_snapshot_updated:${world}:${hash}:1`,
    ...spec.data,
  };
}

/** Upstream's CloudEvent around a snapshot. */
export function cloudEvent(spec: SnapshotSpec): Record<string, unknown> {
  const data = snapshotData(spec);
  return {
    specversion: '1.0',
    id: `ce-${data.world_id}-${spec.version}`,
    source: 'qmtl.services.worldservice',
    type: 'risk_snapshot_updated',
    time: data.created_at,
    datacontenttype: 'application/json',
    correlation_id: `risk_snapshot:${data.world_id}:${data.hash}`,
    data,
  };
}

/** The PutEvents entry a producer sends for the snapshot (Time = the hub's created_at). */
export function putEntry(spec: SnapshotSpec, busName: string): PutEventsRequestEntry {
  const ce = cloudEvent(spec);
  return {
    EventBusName: busName,
    Source: 'qmtl.services.worldservice',
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify(ce),
    Time: new Date(String(ce.time)),
  };
}

/** The EventBridge event Lambda receives for a detail (for invoking the handler directly). */
export function eventBridgeEvent(detail: unknown, time: string): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'risk_snapshot_updated',
    source: 'qmtl.services.worldservice',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** A global `market_snapshot_updated` CloudEvent as a producer sends it (unparsed), for the named worlds or every world. */
function marketCloudEventDetail(
  id: string,
  asOf: string,
  indicators: Record<string, number>,
  worlds?: string[],
) {
  return {
    specversion: '1.0',
    id,
    source: 'qmtl.services.market_data',
    type: 'market_snapshot_updated',
    time: asOf,
    datacontenttype: 'application/json',
    correlation_id: `market:global:${id}`,
    data: {
      scope: 'global',
      ...(worlds ? { worlds } : {}),
      as_of: asOf,
      indicators,
      event_version: 1,
      idempotency_key: `market_snapshot_updated:global:${id}:1`,
    },
  };
}

/** A PutEvents entry carrying a global market CloudEvent (VIX at `vix`, VIX3M at 22), as the market producer puts it. */
export function marketPutEntry(
  id: string,
  asOf: string,
  vix: number,
  busName: string,
  worlds?: string[],
): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: 'qmtl.services.market_data',
    DetailType: 'market_snapshot_updated',
    Detail: JSON.stringify(marketCloudEventDetail(id, asOf, { vix, vix3m: 22 }, worlds)),
    Time: new Date(asOf),
  };
}

/** A global `market_snapshot_updated` CloudEvent with VIX at `vix` (for the named worlds, or every world). */
export function marketCloudEvent(
  id: string,
  asOfMs: number,
  vix: number,
  worlds?: string[],
): MarketSnapshotCloudEvent {
  return MarketSnapshotCloudEventSchema.parse(
    marketCloudEventDetail(id, new Date(asOfMs).toISOString(), { vix }, worlds),
  );
}
