/**
 * Function configuration, read once at cold start and validated, so a misconfigured deployment
 * fails at start-up with a message naming each bad variable and its problem, not halfway through a
 * request.
 *
 * Plain code rather than a zod schema: the environment is not an event contract (zod stays at the
 * event edge), and building a twenty-field schema with coerced numbers, URL checks and transforms cost
 * every cold start ~3 ms of module init for checks a few comparisons do (README, Cold start, round 6).
 * test/support/reference-config.ts keeps the zod schema this replaced; a property test holds the two
 * to the same verdicts and values.
 */
export interface EngineConfig {
  SIGNALS_TABLE_NAME: string;
  STATE_TABLE_NAME: string;
  AUDIT_TABLE_NAME: string;
  EVENT_BUS_NAME: string;
  /**
   * The per-world rule sets: the folder of YAML files for local runs and the CLI; in AWS the compiled
   * `rulesets.json` the bundle step writes beside the function code. Default `rulesets`.
   */
  RULESETS_PATH: string;
  /** How long a function trusts its read of a world's published rule set: a publish takes effect within it. 0-3600, default 30. */
  RULESET_CACHE_TTL_SEC: number;
  /**
   * How many worlds' rule-set lookups a function keeps, the least recently used dropped beyond it (a world
   * dropped is read again on its next snapshot). Whole, 1-100000, default 1000.
   */
  RULESET_CACHE_WORLDS: number;
  /** Whole days, 1-3650, default 400. */
  SIGNAL_RETENTION_DAYS: number;
  /** Whole days, 1-3650, default 2555. */
  AUDIT_RETENTION_DAYS: number;
  /** Stale market data older than this is not used (fail closed per the rule set's staleness rules). Default 3600. */
  MARKET_DATA_MAX_AGE_SEC: number;
  /** Per-world metric dimensions (one CloudWatch series per world, billed each); off by default. */
  PER_WORLD_METRICS: boolean;
  /** Worlds whose snapshot freshness is reported per world (the silence alarms watch them), comma-separated. */
  MONITORED_WORLDS: string[];
  /** Endpoint overrides for local runs; absent in AWS. */
  DYNAMODB_ENDPOINT?: string;
  EVENTBRIDGE_ENDPOINT?: string;
  S3_ENDPOINT?: string;
  /** `false` only on dynalite (local runs without Java), which has no transactions. Default true. */
  EXIT_ENGINE_DYNAMODB_TRANSACTIONS: boolean;
  /** Upstream's hub (WorldService) base URL: refs the engine cannot read itself are resolved through it. */
  HUB_BASE_URL?: string;
  /** Secrets Manager secret holding the hub's bearer token (read once per cold start). */
  HUB_TOKEN_SECRET_NAME?: string;
  /** The hub's bearer token itself: local runs only (`--hub-url` with EXIT_ENGINE_HUB_TOKEN). */
  HUB_TOKEN?: string;
  /** Local runs: where relative `file://` refs (upstream's `.risk_blobs/...` default) are read from. */
  FILE_REF_ROOT?: string;
}

/** One bad variable and what is wrong with it. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** A configuration problem: the deployment, not the event, is wrong. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly problems: readonly ConfigProblem[],
    options?: ErrorOptions,
  ) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.problem}`).join('; ')}`, options);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables one by one, collecting every problem rather than stopping at the first. */
class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  private fail(variable: string, problem: string): undefined {
    this.problems.push({ variable, problem });
    return undefined;
  }

  /** A non-empty string; `fallback` when unset, else required. */
  text(name: string, fallback?: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return fallback ?? this.fail(name, 'must be set');
    if (typeof raw !== 'string') return this.fail(name, 'must be a string');
    return raw === '' ? this.fail(name, 'must not be empty') : raw;
  }

  /** A non-empty string when set. */
  optionalText(name: string): string | undefined {
    return this.env[name] === undefined ? undefined : this.text(name);
  }

  /**
   * A number in [min, max] (`Number()` of the text, as the shell and zod's coercion read it: '' is 0,
   * '0x10' is 16), a safe integer when `integer`; `fallback` when unset.
   */
  number(name: string, fallback: number, range: { min: number; max?: number; integer?: boolean }): number {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    const ok =
      (range.integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
      value >= range.min &&
      (range.max === undefined || value <= range.max);
    if (ok) return value;
    const kind = range.integer ? 'a whole number' : 'a number';
    const bounds = range.max === undefined ? `of at least ${range.min}` : `from ${range.min} to ${range.max}`;
    return this.fail(name, `must be ${kind} ${bounds} (got '${raw}')`) ?? fallback;
  }

  /** 'true' or 'false', exactly. */
  flag(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return this.fail(name, `must be 'true' or 'false' (got '${raw}')`) ?? fallback;
  }

  /**
   * An absolute URL when set, surrounding white space trimmed and tabs and line breaks removed (the URL
   * parser ignores them too). The value is not echoed: a URL may carry credentials.
   */
  optionalUrl(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return undefined;
    const trimmed = typeof raw === 'string' ? raw.trim() : '';
    if (!URL.canParse(trimmed)) return this.fail(name, 'must be an absolute URL, e.g. http://localhost:8000');
    return trimmed.replace(/[\t\n\r]/g, '');
  }

  /** A comma-separated list, blanks dropped; empty when unset. */
  list(name: string): string[] {
    const raw = this.env[name];
    if (raw === undefined) return [];
    if (typeof raw !== 'string') return this.fail(name, 'must be a string') ?? [];
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const read = new EnvReader(env);
  // In the order EngineConfig declares them, so the problems read in that order too.
  const config = {
    SIGNALS_TABLE_NAME: read.text('SIGNALS_TABLE_NAME'),
    STATE_TABLE_NAME: read.text('STATE_TABLE_NAME'),
    AUDIT_TABLE_NAME: read.text('AUDIT_TABLE_NAME'),
    EVENT_BUS_NAME: read.text('EVENT_BUS_NAME'),
    RULESETS_PATH: read.text('RULESETS_PATH', 'rulesets'),
    RULESET_CACHE_TTL_SEC: read.number('RULESET_CACHE_TTL_SEC', 30, { min: 0, max: 3600 }),
    RULESET_CACHE_WORLDS: read.number('RULESET_CACHE_WORLDS', 1000, {
      min: 1,
      max: 100_000,
      integer: true,
    }),
    SIGNAL_RETENTION_DAYS: read.number('SIGNAL_RETENTION_DAYS', 400, { min: 1, max: 3650, integer: true }),
    AUDIT_RETENTION_DAYS: read.number('AUDIT_RETENTION_DAYS', 2555, { min: 1, max: 3650, integer: true }),
    MARKET_DATA_MAX_AGE_SEC: read.number('MARKET_DATA_MAX_AGE_SEC', 3600, { min: 1, integer: true }),
    PER_WORLD_METRICS: read.flag('PER_WORLD_METRICS', false),
    MONITORED_WORLDS: read.list('MONITORED_WORLDS'),
    DYNAMODB_ENDPOINT: read.optionalUrl('DYNAMODB_ENDPOINT'),
    EVENTBRIDGE_ENDPOINT: read.optionalUrl('EVENTBRIDGE_ENDPOINT'),
    S3_ENDPOINT: read.optionalUrl('S3_ENDPOINT'),
    EXIT_ENGINE_DYNAMODB_TRANSACTIONS: read.flag('EXIT_ENGINE_DYNAMODB_TRANSACTIONS', true),
    HUB_BASE_URL: read.optionalUrl('HUB_BASE_URL'),
    HUB_TOKEN_SECRET_NAME: read.optionalText('HUB_TOKEN_SECRET_NAME'),
    HUB_TOKEN: read.optionalText('HUB_TOKEN'),
    FILE_REF_ROOT: read.optionalText('FILE_REF_ROOT'),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  // With no problem, only optional variables can be unset: left out of the config rather than undefined.
  for (const [key, value] of Object.entries(config))
    if (value === undefined) delete config[key as keyof typeof config];
  return config as EngineConfig;
}
