// Namespace import: esbuild can tree-shake it (a named `z` pulls in every zod locale).
import * as z from 'zod';
import { formatZodIssues } from './contracts/issues.js';

/**
 * Function configuration, read once at cold start and validated, so a misconfigured deployment
 * fails on its first invocation with a message naming the variable, not halfway through a request.
 */
const EnvSchema = z.object({
  SIGNALS_TABLE_NAME: z.string().min(1),
  STATE_TABLE_NAME: z.string().min(1),
  AUDIT_TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1),
  /** Folder holding the per-world rule sets (bundled beside the function code in AWS). */
  RULESETS_PATH: z.string().min(1).default('rulesets'),
  /** How long a function trusts its read of a world's published rule set: a publish takes effect within it. */
  RULESET_CACHE_TTL_SEC: z.coerce.number().min(0).max(3600).default(30),
  SIGNAL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(2555),
  /** Stale market data older than this is not used (fail closed per the rule set's staleness rules). */
  MARKET_DATA_MAX_AGE_SEC: z.coerce.number().int().min(1).default(3600),
  /** Per-world metric dimensions (one CloudWatch series per world, billed each); off by default. */
  PER_WORLD_METRICS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Worlds whose snapshot freshness is reported per world (the silence alarms watch them), comma-separated. */
  MONITORED_WORLDS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((w) => w.trim())
        .filter((w) => w.length > 0),
    ),
  /** Endpoint overrides for local runs; absent in AWS. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  EVENTBRIDGE_ENDPOINT: z.string().url().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  /** `false` only on dynalite (local runs without Java), which has no transactions. */
  EXIT_ENGINE_DYNAMODB_TRANSACTIONS: z
    .enum(['true', 'false'], { message: "must be 'true' or 'false'" })
    .default('true')
    .transform((v) => v === 'true'),
  /** Upstream's hub (WorldService) base URL: refs the engine cannot read itself are resolved through it. */
  HUB_BASE_URL: z.string().url().optional(),
  /** Secrets Manager secret holding the hub's bearer token (read once per cold start). */
  HUB_TOKEN_SECRET_NAME: z.string().min(1).optional(),
  /** The hub's bearer token itself: local runs only (`--hub-url` with EXIT_ENGINE_HUB_TOKEN). */
  HUB_TOKEN: z.string().min(1).optional(),
  /** Local runs: where relative `file://` refs (upstream's `.risk_blobs/...` default) are read from. */
  FILE_REF_ROOT: z.string().min(1).optional(),
});

export type EngineConfig = z.infer<typeof EnvSchema>;

/** A configuration problem: the deployment, not the event, is wrong. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${formatZodIssues(parsed.error).join('; ')}`);
  }
  return parsed.data;
}
