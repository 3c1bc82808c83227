import * as z from 'zod/mini';
import '#lib/contracts/zod-messages.js';

/**
 * The zod schema lib/config.ts validated the environment with until round 6 of "Cold start" (README),
 * kept as the reference its plain-code replacement is held to (test/unit/config.test.ts): the same
 * variables, defaults, ranges, coercions and verdicts.
 */
export const ReferenceEnvSchema = z.object({
  SIGNALS_TABLE_NAME: z.string().check(z.minLength(1)),
  STATE_TABLE_NAME: z.string().check(z.minLength(1)),
  AUDIT_TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  /**
   * The per-world rule sets: the folder of YAML files for local runs and the CLI; in AWS the compiled
   * `rulesets.json` the bundle step writes beside the function code.
   */
  RULESETS_PATH: z._default(z.string().check(z.minLength(1)), 'rulesets'),
  /** How long a function trusts its read of a world's published rule set: a publish takes effect within it. */
  RULESET_CACHE_TTL_SEC: z._default(z.coerce.number().check(z.gte(0), z.lte(3600)), 30),
  /** How many worlds' rule-set lookups a function keeps (added after round 6, in the same style). */
  RULESET_CACHE_WORLDS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100_000)), 1000),
  SIGNAL_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(3650)), 400),
  AUDIT_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(3650)), 2555),
  /** Stale market data older than this is not used (fail closed per the rule set's staleness rules). */
  MARKET_DATA_MAX_AGE_SEC: z._default(z.coerce.number().check(z.int(), z.gte(1)), 3600),
  /** Per-world metric dimensions (one CloudWatch series per world, billed each); off by default. */
  PER_WORLD_METRICS: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  /** Worlds whose snapshot freshness is reported per world (the silence alarms watch them), comma-separated. */
  MONITORED_WORLDS: z.pipe(
    z._default(z.string(), ''),
    z.transform((v) =>
      v
        .split(',')
        .map((w) => w.trim())
        .filter((w) => w.length > 0),
    ),
  ),
  /** Endpoint overrides for local runs; absent in AWS. */
  DYNAMODB_ENDPOINT: z.optional(z.string().check(z.url())),
  EVENTBRIDGE_ENDPOINT: z.optional(z.string().check(z.url())),
  S3_ENDPOINT: z.optional(z.string().check(z.url())),
  /** `false` only on dynalite (local runs without Java), which has no transactions. */
  EXIT_ENGINE_DYNAMODB_TRANSACTIONS: z.pipe(
    z._default(z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }), 'true'),
    z.transform((v) => v === 'true'),
  ),
  /** Upstream's hub (WorldService) base URL: refs the engine cannot read itself are resolved through it. */
  HUB_BASE_URL: z.optional(z.string().check(z.url())),
  /** Secrets Manager secret holding the hub's bearer token (read once per cold start). */
  HUB_TOKEN_SECRET_NAME: z.optional(z.string().check(z.minLength(1))),
  /** The hub's bearer token itself: local runs only (`--hub-url` with EXIT_ENGINE_HUB_TOKEN). */
  HUB_TOKEN: z.optional(z.string().check(z.minLength(1))),
  /** Local runs: where relative `file://` refs (upstream's `.risk_blobs/...` default) are read from. */
  FILE_REF_ROOT: z.optional(z.string().check(z.minLength(1))),
});

export type ReferenceEngineConfig = z.infer<typeof ReferenceEnvSchema>;
