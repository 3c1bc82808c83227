import * as z from 'zod/mini';
import { isoDateTime as isoDateTimeSchema } from './zod-shared.js';

/**
 * Our own contract for market indicators, `market_snapshot_updated` (BRIEF §3): the same
 * CloudEvents 1.0 envelope as upstream's events, `data` carrying one scope's latest indicators and
 * per-strategy (or per-instrument) series. Published as `schemas/market_snapshot_updated.schema.json`
 * (kept in step with this module by test/contract/market-snapshot.test.ts). Unknown keys are allowed
 * so producers can add fields without breaking us.
 */

export const MARKET_SNAPSHOT_DETAIL_TYPE = 'market_snapshot_updated';
/** The source our market-data producer uses (any non-empty source is accepted). */
export const MARKET_DATA_SOURCE = 'qmtl.services.market_data';

const isoDateTime = isoDateTimeSchema({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone (Z or ±hh:mm)',
});
const finite = z.number({ message: 'must be a finite number' });
const nonNegative = z.number({ message: 'must be a finite number' }).check(z.gte(0, 'must be 0 or more'));
const positive = z.number({ message: 'must be a finite number' }).check(z.gt(0, 'must be greater than 0'));
const nonEmptyString = z.string({ message: 'must be a string' }).check(z.minLength(1, 'must not be empty'));
const finiteSeries = z.array(finite, { message: 'must be an array of finite numbers (oldest first)' });
const nonNegativeSeries = z.array(nonNegative, { message: 'must be an array of numbers ≥ 0 (oldest first)' });

/** Indicator values: `vix`, `vix3m` and any other finite numbers. */
export const MarketIndicatorsSchema = z.catchall(
  z.object({
    vix: z.optional(positive),
    vix3m: z.optional(positive),
  }),
  finite,
);

/** Time series for one strategy or instrument, oldest first; extra series must be numbers too. */
export const MarketSeriesSchema = z.catchall(
  z.object({
    /** Relative quoted spread (ask − bid)/mid per period. */
    spread: z.optional(finiteSeries),
    /** Traded value per period (currency units), the Amihud denominator. */
    dollar_volume: z.optional(nonNegativeSeries),
    /** Returns per period, aligned with `dollar_volume` on the latest period. */
    returns: z.optional(finiteSeries),
    /** Position as a fraction of average daily volume, per period. */
    adv_util: z.optional(nonNegativeSeries),
  }),
  finiteSeries,
);

export const MarketSnapshotDataSchema = z.looseObject({
  /** `global`, a world id, or a venue. */
  scope: nonEmptyString,
  /** Worlds this data concerns; absent means every world. */
  worlds: z.optional(
    z
      .array(z.string().check(z.minLength(1, 'must not be empty')), {
        message: 'must be an array of world ids',
      })
      .check(z.minLength(1, 'must name at least one world (omit it to mean every world)')),
  ),
  as_of: isoDateTime,
  indicators: MarketIndicatorsSchema,
  series: z.optional(z.record(z.string(), MarketSeriesSchema)),
  event_version: z
    .number({ message: 'must be a whole number ≥ 1' })
    .check(z.int('must be a whole number ≥ 1'), z.gte(1, 'must be a whole number ≥ 1')),
  idempotency_key: nonEmptyString,
});
export type MarketSnapshotData = z.infer<typeof MarketSnapshotDataSchema>;

/** The CloudEvents 1.0 envelope around the market data. */
export const MarketSnapshotCloudEventSchema = z.looseObject({
  specversion: z.literal('1.0', { message: "must be '1.0'" }),
  id: nonEmptyString,
  source: nonEmptyString,
  type: z.literal(MARKET_SNAPSHOT_DETAIL_TYPE, { message: `must be '${MARKET_SNAPSHOT_DETAIL_TYPE}'` }),
  time: isoDateTime,
  datacontenttype: z.literal('application/json', { message: "must be 'application/json'" }),
  correlation_id: z.string({ message: 'must be a string' }),
  data: MarketSnapshotDataSchema,
});
export type MarketSnapshotCloudEvent = z.infer<typeof MarketSnapshotCloudEventSchema>;

/** The engine's view of a scope, in its own schema-free module (market-scope-view.ts). */
export type { MarketScopeView } from './market-scope-view.js';
