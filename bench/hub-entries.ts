import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { mulberry32 } from '#lib/prng.js';

/**
 * The PutEvents entries the soak and the write-units bench send: a `risk_snapshot_updated` as
 * upstream's hub builds it (CloudEvent in `detail`, hash-derived correlation and idempotency keys),
 * and a global `market_snapshot_updated`.
 */

export const HUB_SOURCE = 'qmtl.services.worldservice';
const MARKET_SOURCE = 'qmtl.services.market_data';

/** A hub snapshot of `world` at `asOfMs`; `body` is the weights and whatever content follows them. */
export function hubSnapshotEntry(
  world: string,
  version: string,
  asOfMs: number,
  body: { weights: Record<string, number> } & Record<string, unknown>,
): PutEventsRequestEntry {
  const hash = `sha256:${world}-${version}`;
  const data = {
    world_id: world,
    as_of: new Date(asOfMs).toISOString(),
    version,
    ...body,
    stress: { crash: { max_drawdown: 0.1 } },
    provenance: { actor: 'risk-hub', stage: 'live' },
    hash,
    ttl_sec: 86_400,
    created_at: new Date(asOfMs + 1_000).toISOString(),
    event_version: 1,
    idempotency_key: `risk_snapshot_updated:${world}:${hash}:1`,
  };
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: HUB_SOURCE,
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify({
      specversion: '1.0',
      id: `ce-${world}-${version}`,
      source: HUB_SOURCE,
      type: 'risk_snapshot_updated',
      time: data.created_at,
      datacontenttype: 'application/json',
      correlation_id: `risk_snapshot:${world}:${hash}`,
      data,
    }),
  };
}

/** Global market data at `asOfMs`: for every world, or (`world`) naming that one world. */
export function marketEntry(m: {
  id: string;
  asOfMs: number;
  vix: number;
  world?: string;
}): PutEventsRequestEntry {
  const asOf = new Date(m.asOfMs).toISOString();
  const scope = m.world === undefined ? 'global' : `global:${m.world}`;
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: MARKET_SOURCE,
    DetailType: 'market_snapshot_updated',
    Detail: JSON.stringify({
      specversion: '1.0',
      id: m.id,
      source: MARKET_SOURCE,
      type: 'market_snapshot_updated',
      time: asOf,
      datacontenttype: 'application/json',
      correlation_id: `market:${m.world ?? 'global'}:${asOf}`,
      data: {
        scope: 'global',
        ...(m.world === undefined ? {} : { worlds: [m.world] }),
        as_of: asOf,
        indicators: { vix: m.vix, vix3m: 21 },
        event_version: 1,
        idempotency_key: `market_snapshot_updated:${scope}:${asOf}:1`,
      },
    }),
  };
}

/**
 * A snapshot body of `strategies` equal-weighted, uncorrelated strategies whose 1-day 99% normal VaR is
 * `varLevel` (the default rule set's limit is 0.025: 0.014 stays silent, 0.04 cuts every strategy), with
 * `points` daily returns each drawn from `seed`.
 */
export function calibratedBody(
  strategies: readonly string[],
  varLevel: number,
  seed: number,
  points = 40,
): { weights: Record<string, number> } & Record<string, unknown> {
  const sigmaP = varLevel / 2.3263478740408408;
  const variance = sigmaP * sigmaP * strategies.length;
  const rand = mulberry32(seed);
  const covariance: Record<string, number> = {};
  for (let i = 0; i < strategies.length; i++)
    for (let j = i; j < strategies.length; j++)
      covariance[`${strategies[i]},${strategies[j]}`] = i === j ? variance : 0;
  return {
    weights: Object.fromEntries(strategies.map((s) => [s, 1 / strategies.length])),
    covariance,
    realized_returns: Object.fromEntries(
      strategies.map((s) => [s, Array.from({ length: points }, () => (rand() - 0.5) * 0.02)]),
    ),
  };
}
