import * as z from 'zod/mini';
import { covarianceProblemIssues, scanCovarianceMap } from './covariance-map.js';
import { int, isoDateTime as isoDateTimeSchema, text } from './zod-shared.js';

/**
 * Inbound contract: upstream's `risk_snapshot_updated` CloudEvent (BRIEF §2) and the portfolio
 * snapshot it carries. Unknown keys are allowed (upstream adds fields after hashing), optional keys
 * are absent rather than null, and the documented variants are normalized here so nothing past the
 * edge has to know about them.
 */

/** Tolerance on the sum of weights, as upstream enforces it. */
export const WEIGHT_SUM_TOLERANCE = 1e-3;
/** Upstream's default and maximum snapshot lifetime. */
export const DEFAULT_TTL_SEC = 900;
export const MAX_TTL_SEC = 86_400;

const isoDateTime = isoDateTimeSchema({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone (Z or ±hh:mm)',
});
// One instance of each repeated sub-schema, shared by every field that uses it: zod builds a schema when
// its module loads, and each `.check()` builds the schema twice (README, Cold start, round 6).
const nonEmpty = z.string().check(z.minLength(1, 'must not be empty'));
const anyMap = z.record(text, z.unknown());
const finite = z.number({ message: 'must be a finite number' });
const atLeastOne = z.gte(1);
const finiteSeries = z.array(finite);
const refUri = z
  .string()
  .check(z.regex(/^(s3|file|redis):\/\/.+/, 'must be an s3://, file:// or redis:// reference'));

/** Per-scenario stress metrics: every value a finite number (`dd_max` is renamed by normalizeStress). */
const scenarioMetrics = anyMap.check(
  z.superRefine((raw, ctx) => {
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value !== 'number' || !Number.isFinite(value))
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be a finite number' });
    }
  }),
);

/**
 * Every `realized_returns` shape upstream's consumers accept (`core_loop_hub.extract_returns_from_realized`):
 * `{strategy: [...]}`, a bare array, `{"returns"|"live_returns": [...]}` (a portfolio-level series, what
 * upstream's RiskHubClient offloads a bare array as), or `{"strategies": {strategy: [...]}}`. The map's
 * values are checked one by one in the snapshot's refinement, so each bad value is named by its path.
 */
export const RealizedReturnsSchema = z.union([finiteSeries, anyMap]);
/** Keys of a realized-returns map that hold one portfolio-level series, in upstream's order of preference. */
export const PORTFOLIO_SERIES_KEYS = ['live_returns', 'returns'] as const;
/** The key under which upstream nests per-strategy series or stress. */
export const STRATEGIES_KEY = 'strategies';
/** After parsing: per-strategy series, or one portfolio-level series. */
export type NormalizedRealizedReturns = Record<string, number[]> | number[];
/**
 * `{"a,b": number}`, shape only: SnapshotDataSchema's refinement checks every value, key form and
 * id in one loop. z.record would copy the map and walk it once more, and a 1,000-strategy map has
 * 500,500 keys.
 */
export const CovarianceMapSchema = z.custom<Record<string, number>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'must be an object mapping "<idA>,<idB>" to a number' },
);

/**
 * Stress is `{scenario: metrics}`, `{strategy: {scenario: metrics}}` or
 * `{"strategies": {strategy: {scenario: metrics}}}` (upstream's `extract_stress_for_strategy`); the
 * last is flattened at parsing. `normalizeStress` keeps world scenarios and per-strategy ones apart.
 */
export const StressSchema = z.record(text, anyMap);

export interface NormalizedStress {
  world: Record<string, Record<string, number>>;
  by_strategy: Record<string, Record<string, Record<string, number>>>;
}

const SnapshotShapeSchema = z.looseObject({
  world_id: nonEmpty,
  as_of: isoDateTime,
  version: nonEmpty,
  weights: z
    .record(text, finite)
    .check(z.refine((w) => Object.keys(w).length > 0, 'must name at least one strategy')),
  covariance: z.optional(CovarianceMapSchema),
  covariance_ref: z.optional(refUri),
  realized_returns: z.optional(RealizedReturnsSchema),
  realized_returns_ref: z.optional(refUri),
  stress: z.optional(StressSchema),
  stress_ref: z.optional(refUri),
  constraints: z.optional(anyMap),
  provenance: z.optional(anyMap),
  hash: z.optional(text),
  ttl_sec: z.optional(
    z.number().check(int('must be a whole number of seconds'), atLeastOne, z.lte(MAX_TTL_SEC)),
  ),
  created_at: z.optional(isoDateTime),
  event_version: z.optional(z.number().check(int(), atLeastOne)),
  idempotency_key: z.optional(text),
});

/**
 * The snapshot, checked as a whole and normalized. The normalization is an `overwrite` check after the
 * refinement rather than a `pipe` into a `transform`: one check instead of two more schema types to
 * build at load (README, Cold start). It runs only when nothing before it aborted, and its result is
 * returned only when no check raised an issue, so the parsed data and the issues are those of the pipe.
 */
export const SnapshotDataSchema = SnapshotShapeSchema.check(
  z.superRefine((s, ctx) => {
    const sum = Object.values(s.weights).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
      ctx.addIssue({
        code: 'custom',
        path: ['weights'],
        message: `must sum to 1 ± ${WEIGHT_SUM_TOLERANCE} (sum is ${Number(sum.toPrecision(10))})`,
      });
    }
    if (s.covariance) {
      // One pass that also builds the matrix, remembered for prepareSnapshot / prepareRiskInput.
      const { problems } = scanCovarianceMap(s.covariance, Object.keys(s.weights));
      for (const issue of covarianceProblemIssues(problems)) ctx.addIssue({ code: 'custom', ...issue });
    }
    if (s.realized_returns && !Array.isArray(s.realized_returns)) {
      checkRealizedMap(s.realized_returns as Record<string, unknown>, s.weights, ctx);
    }
    if (s.stress) {
      for (const [key, value] of Object.entries(flattenStress(s.stress, s.weights))) {
        const nested = Object.values(value).some((v) => typeof v === 'object' && v !== null);
        const target = nested ? value : { [key]: value };
        for (const [scenario, metrics] of Object.entries(target)) {
          const parsed = scenarioMetrics.safeParse(metrics);
          if (!parsed.success) {
            for (const issue of parsed.error.issues) {
              ctx.addIssue({
                code: 'custom',
                path: ['stress', key, ...(nested ? [scenario] : []), ...issue.path] as PropertyKey[],
                message: issue.message,
              });
            }
          }
        }
      }
    }
    if (s.created_at && Date.parse(s.created_at) < Date.parse(s.as_of) - 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['created_at'], message: 'is more than a day before as_of' });
    }
  }),
  z.overwrite((s: SnapshotShape): SnapshotShape => {
    const { realized_returns, stress, ...rest } = s;
    return {
      ...rest,
      ...(realized_returns !== undefined
        ? { realized_returns: normalizeRealized(realized_returns, s.weights) }
        : {}),
      ...(stress !== undefined ? { stress: flattenStress(stress, s.weights) } : {}),
    };
  }),
  // The overwrite changes what `realized_returns` holds (its canonical shape), which a check's type cannot say.
) as unknown as z.ZodMiniType<Normalized<SnapshotShape>, z.input<typeof SnapshotShapeSchema>>;

type SnapshotShape = z.output<typeof SnapshotShapeSchema>;

/** The parsed snapshot with `realized_returns` in its canonical shape. */
type Normalized<T> = {
  [K in keyof T]: K extends 'realized_returns' ? NormalizedRealizedReturns | undefined : T[K];
};

export type SnapshotData = z.infer<typeof SnapshotDataSchema>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key of the map that is upstream's wrapper rather than a strategy id (a strategy may be called `returns`). */
const isWrapperKey = (key: string, weights: Record<string, number>) =>
  !(key in weights) && (key === STRATEGIES_KEY || (PORTFOLIO_SERIES_KEYS as readonly string[]).includes(key));

/** Whether `value` is an array of finite numbers: what `finiteSeries` accepts, without a copy of it. */
function isFiniteSeries(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  }
  return true;
}

function checkSeries(value: unknown, path: PropertyKey[], ctx: z.core.$RefinementCtx): void {
  // The object schema already accepted the map; only a bad series needs zod's issues.
  if (isFiniteSeries(value)) return;
  const parsed = finiteSeries.safeParse(value);
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, ...issue.path] as PropertyKey[],
      message:
        issue.code === 'invalid_type' && issue.path.length === 0
          ? 'must be an array of numbers'
          : issue.message,
    });
  }
}

function checkRealizedMap(
  map: Record<string, unknown>,
  weights: Record<string, number>,
  ctx: z.core.$RefinementCtx,
): void {
  for (const [key, value] of Object.entries(map)) {
    const path = ['realized_returns', key];
    if (key === STRATEGIES_KEY && !(key in weights)) {
      if (!isPlainObject(value)) {
        ctx.addIssue({ code: 'custom', path, message: 'must be an object of per-strategy series' });
        continue;
      }
      for (const [id, series] of Object.entries(value)) {
        if (!(id in weights))
          ctx.addIssue({
            code: 'custom',
            path: [...path, id],
            message: `unknown strategy '${id}' (not in weights)`,
          });
        else checkSeries(series, [...path, id], ctx);
      }
      continue;
    }
    if (!(key in weights) && !isWrapperKey(key, weights)) {
      ctx.addIssue({ code: 'custom', path, message: `unknown strategy '${key}' (not in weights)` });
      continue;
    }
    checkSeries(value, path, ctx);
  }
}

/**
 * One canonical shape for what the rules read. Per-strategy series (direct keys win over `strategies`)
 * when they cover every strategy or there is nothing else; otherwise the portfolio-level series
 * (`live_returns`, then `returns`, or a bare array). A portfolio-level series is the world's weighted
 * return: it feeds world measures (historical VaR/ES, portfolio drawdown) and is never split across
 * strategies, except in a one-strategy world, where it is that strategy's own series.
 */
function normalizeRealized(raw: unknown, weights: Record<string, number>): NormalizedRealizedReturns {
  const ids = Object.keys(weights);
  let portfolio: number[] | undefined;
  const byStrategy: Record<string, number[]> = {};
  if (Array.isArray(raw)) {
    portfolio = raw as number[];
  } else if (isPlainObject(raw)) {
    const nested = !(STRATEGIES_KEY in weights) ? raw[STRATEGIES_KEY] : undefined;
    if (isPlainObject(nested)) Object.assign(byStrategy, nested as Record<string, number[]>);
    for (const [key, value] of Object.entries(raw)) {
      if (key in weights) byStrategy[key] = value as number[];
    }
    for (const key of PORTFOLIO_SERIES_KEYS) {
      if (portfolio === undefined && isWrapperKey(key, weights) && Array.isArray(raw[key]))
        portfolio = raw[key] as number[];
    }
  }
  const covered = ids.every((id) => id in byStrategy);
  if (portfolio === undefined || (covered && Object.keys(byStrategy).length > 0)) return byStrategy;
  if (ids.length === 1) return { [ids[0]!]: portfolio };
  return portfolio;
}

/** `{"strategies": {...}}` lifted to the top level (a direct per-strategy entry wins); other shapes as they are. */
function flattenStress<T extends Record<string, Record<string, unknown>>>(
  stress: T,
  weights: Record<string, number>,
): T {
  const nested = stress[STRATEGIES_KEY];
  if (STRATEGIES_KEY in weights || !isPlainObject(nested)) return stress;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, value] of Object.entries(nested)) if (isPlainObject(value)) out[id] = value;
  for (const [key, value] of Object.entries(stress)) if (key !== STRATEGIES_KEY) out[key] = value;
  return out as T;
}

/** Upstream's CloudEvents 1.0 envelope around the snapshot. */
const present = z.string().check(z.minLength(1));

export const RiskSnapshotCloudEventSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: present,
  source: present,
  type: z.literal('risk_snapshot_updated'),
  time: isoDateTime,
  datacontenttype: z.literal('application/json'),
  correlation_id: text,
  data: SnapshotDataSchema,
});
export type RiskSnapshotCloudEvent = z.infer<typeof RiskSnapshotCloudEventSchema>;

/** Splits stress into world scenarios and per-strategy scenarios, with `dd_max` renamed. */
export function normalizeStress(
  stress: SnapshotData['stress'],
  strategyIds: ReadonlySet<string>,
): NormalizedStress {
  const out: NormalizedStress = { world: {}, by_strategy: {} };
  if (!stress) return out;
  for (const [key, value] of Object.entries(stress)) {
    const nested = Object.values(value).some((v) => typeof v === 'object' && v !== null);
    if (nested && strategyIds.has(key)) {
      const scenarios: Record<string, Record<string, number>> = {};
      for (const [scenario, metrics] of Object.entries(value)) scenarios[scenario] = renameMetrics(metrics);
      out.by_strategy[key] = scenarios;
    } else if (!nested) {
      out.world[key] = renameMetrics(value);
    }
  }
  return out;
}

function renameMetrics(metrics: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics as Record<string, unknown>)) {
    if (typeof value === 'number') out[key === 'dd_max' ? 'max_drawdown' : key] = value;
  }
  return out;
}

/** When the snapshot stops being fit to act on: `created_at` (else `as_of`) + `ttl_sec`. */
export function snapshotExpiresAt(s: Pick<SnapshotData, 'created_at' | 'as_of' | 'ttl_sec'>): number {
  const base = Date.parse(s.created_at ?? s.as_of);
  return base + (s.ttl_sec ?? DEFAULT_TTL_SEC) * 1000;
}
