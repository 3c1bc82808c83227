import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, type EngineConfig, loadConfig } from '#lib/config.js';
import { RULE_SET_CACHE_WORLDS } from '#lib/rulesets/live-rule-sets.js';
import { type ReferenceEngineConfig, ReferenceEnvSchema } from '#test/support/reference-config.js';

const REQUIRED = {
  SIGNALS_TABLE_NAME: 's',
  STATE_TABLE_NAME: 't',
  AUDIT_TABLE_NAME: 'a',
  EVENT_BUS_NAME: 'b',
};

const TEXT = [
  'SIGNALS_TABLE_NAME',
  'STATE_TABLE_NAME',
  'AUDIT_TABLE_NAME',
  'EVENT_BUS_NAME',
  'RULESETS_PATH',
];
const OPTIONAL_TEXT = ['HUB_TOKEN_SECRET_NAME', 'HUB_TOKEN', 'FILE_REF_ROOT'];
const NUMBERS = [
  'RULESET_CACHE_TTL_SEC',
  'RULESET_CACHE_WORLDS',
  'SIGNAL_RETENTION_DAYS',
  'AUDIT_RETENTION_DAYS',
  'MARKET_DATA_MAX_AGE_SEC',
];
const FLAGS = ['PER_WORLD_METRICS', 'EXIT_ENGINE_DYNAMODB_TRANSACTIONS'];
const URLS = ['DYNAMODB_ENDPOINT', 'EVENTBRIDGE_ENDPOINT', 'S3_ENDPOINT', 'HUB_BASE_URL'];

/** Each kind of variable's valid values and its edge cases, bad ones among them. */
interface Kind {
  good: fc.Arbitrary<string>;
  edge: fc.Arbitrary<string>;
}

const text: Kind = {
  good: fc.oneof(fc.constantFrom(' ', 'exit-engine-signals', 'rulesets'), fc.string({ minLength: 1 })),
  edge: fc.oneof(fc.constant(''), fc.string()),
};
const numeric: Kind = {
  good: fc.oneof(
    fc.constantFrom('1', '30', '3600', '1e3', '0x10', ' 42 ', '0b11', '1.0'),
    fc.integer({ min: 1, max: 3600 }).map(String),
  ),
  edge: fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '0',
      '3601',
      '3650',
      '3651',
      '-1',
      '1.5',
      '0.5',
      'Infinity',
      '-Infinity',
      'NaN',
      'abc',
    ),
    fc.constantFrom('1e400', '9007199254740993', '7e15', '-0'),
    fc.integer({ min: -10, max: 5000 }).map(String),
    fc.double().map(String),
    fc.string(),
  ),
};
const flag: Kind = {
  good: fc.constantFrom('true', 'false'),
  edge: fc.oneof(fc.constantFrom('TRUE', 'True', '1', '', ' true', 'no'), fc.string()),
};
const url: Kind = {
  good: fc.oneof(
    fc.constantFrom('http://localhost:8000', ' http://127.0.0.1:4010\t', 'https://hub.example.com/api'),
    fc.constantFrom('http:x', 'mailto:a@b', 'a:b', 'http://exa\nmple.com', 'http://[::1]:9', 'file:///tmp/x'),
    fc.webUrl(),
    fc
      .tuple(fc.webUrl(), fc.constantFrom('\t', '\n', '\r', ' '), fc.nat(30))
      .map(([href, ws, at]) => href.slice(0, at) + ws + href.slice(at)),
  ),
  edge: fc.oneof(
    fc.constantFrom('localhost:8000', 'foo', '', ' ', '//x', 'http://', 'https://a b'),
    fc.string(),
  ),
};
const list: Kind = {
  good: fc.oneof(fc.constantFrom('', ',', 'w1', ' w1 , ,w2,', 'w1,w1'), fc.string()),
  edge: fc.string(),
};

/** Unset, valid, or (less often) an edge case: most environments have a few bad variables or none. */
const variable = (kind: Kind) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 16, arbitrary: kind.good },
    { weight: 1, arbitrary: kind.edge },
  );

const environment = fc.record(
  {
    ...Object.fromEntries(TEXT.map((name) => [name, variable(text)])),
    ...Object.fromEntries(OPTIONAL_TEXT.map((name) => [name, variable(text)])),
    ...Object.fromEntries(NUMBERS.map((name) => [name, variable(numeric)])),
    ...Object.fromEntries(FLAGS.map((name) => [name, variable(flag)])),
    ...Object.fromEntries(URLS.map((name) => [name, variable(url)])),
    MONITORED_WORLDS: variable(list),
    // Variables the config does not read: Lambda's own, and anything else.
    AWS_REGION: fc.constantFrom(undefined, 'eu-west-1'),
    EXTRA: fc.option(fc.string(), { nil: undefined }),
  },
  { requiredKeys: [] },
);

/** Environments with the four tables and bus mostly set, and arbitrary ones. */
const environments = fc.oneof(
  { weight: 4, arbitrary: environment.map((env) => ({ ...REQUIRED, ...env })) },
  { weight: 1, arbitrary: environment },
  {
    weight: 1,
    arbitrary: fc
      .dictionary(fc.constantFrom(...TEXT, ...NUMBERS, ...FLAGS, ...URLS, 'EXTRA'), fc.string())
      .map((env) => ({ ...REQUIRED, ...env })),
  },
);

/** Without the keys an object holds as undefined: the reference keeps an optional key set to undefined. */
const defined = (value: object) => JSON.parse(JSON.stringify(value)) as unknown;

function attempt(
  env: NodeJS.ProcessEnv,
): { ok: true; config: EngineConfig } | { ok: false; error: ConfigError } {
  try {
    return { ok: true, config: loadConfig(env) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ok: false, error };
  }
}

describe('loadConfig', () => {
  it('has the type the reference zod schema inferred', () => {
    expectTypeOf<EngineConfig>().toEqualTypeOf<ReferenceEngineConfig>();
    expect(loadConfig(REQUIRED)).toEqual(ReferenceEnvSchema.parse(REQUIRED));
  });

  it('accepts and rejects what the reference zod schema does, with the same values and variables', () => {
    let accepted = 0;
    fc.assert(
      fc.property(environments, (env) => {
        const reference = ReferenceEnvSchema.safeParse(env);
        const actual = attempt(env);
        expect(actual.ok).toBe(reference.success);
        if (reference.success && actual.ok) {
          accepted += 1;
          expect(defined(actual.config)).toStrictEqual(defined(reference.data));
        } else if (!reference.success && !actual.ok) {
          const named = [...new Set(reference.error.issues.map((issue) => String(issue.path[0])))];
          expect(actual.error.problems.map((p) => p.variable)).toStrictEqual(named);
        }
      }),
      { numRuns: 2000 },
    );
    // Both verdicts are exercised, not only the rejections a random environment mostly gets.
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(1800);
  });

  it('defaults what is unset and reads flags, numbers, URLs and lists', () => {
    expect(loadConfig(REQUIRED)).toStrictEqual({
      ...REQUIRED,
      RULESETS_PATH: 'rulesets',
      RULESET_CACHE_TTL_SEC: 30,
      RULESET_CACHE_WORLDS: 1000,
      SIGNAL_RETENTION_DAYS: 400,
      AUDIT_RETENTION_DAYS: 2555,
      MARKET_DATA_MAX_AGE_SEC: 3600,
      PER_WORLD_METRICS: false,
      MONITORED_WORLDS: [],
      EXIT_ENGINE_DYNAMODB_TRANSACTIONS: true,
    });
    // The cache's own default, which the local runtime and the CLI get without a configuration.
    expect(loadConfig(REQUIRED).RULESET_CACHE_WORLDS).toBe(RULE_SET_CACHE_WORLDS);
    const config = loadConfig({
      ...REQUIRED,
      RULESET_CACHE_TTL_SEC: '0.5',
      PER_WORLD_METRICS: 'true',
      EXIT_ENGINE_DYNAMODB_TRANSACTIONS: 'false',
      MONITORED_WORLDS: ' w1, ,w2 ',
      DYNAMODB_ENDPOINT: ' http://localhost:8000\n',
    });
    expect(config).toMatchObject({
      RULESET_CACHE_TTL_SEC: 0.5,
      PER_WORLD_METRICS: true,
      EXIT_ENGINE_DYNAMODB_TRANSACTIONS: false,
      MONITORED_WORLDS: ['w1', 'w2'],
      DYNAMODB_ENDPOINT: 'http://localhost:8000',
    });
  });

  it('fails with a ConfigError naming every bad variable and its problem', () => {
    const error = attempt({
      STATE_TABLE_NAME: '',
      AUDIT_TABLE_NAME: 'a',
      EVENT_BUS_NAME: 'b',
      SIGNAL_RETENTION_DAYS: '1.5',
      MARKET_DATA_MAX_AGE_SEC: 'soon',
      EXIT_ENGINE_DYNAMODB_TRANSACTIONS: 'no',
      HUB_BASE_URL: 'hub.internal',
    });
    expect(error.ok).toBe(false);
    expect(error.ok ? undefined : error.error.message).toBe(
      'invalid configuration: SIGNALS_TABLE_NAME: must be set; STATE_TABLE_NAME: must not be empty; ' +
        "SIGNAL_RETENTION_DAYS: must be a whole number from 1 to 3650 (got '1.5'); " +
        "MARKET_DATA_MAX_AGE_SEC: must be a whole number of at least 1 (got 'soon'); " +
        "EXIT_ENGINE_DYNAMODB_TRANSACTIONS: must be 'true' or 'false' (got 'no'); " +
        'HUB_BASE_URL: must be an absolute URL, e.g. http://localhost:8000',
    );
  });

  it('does not echo a URL, which may carry credentials', () => {
    expect(() => loadConfig({ ...REQUIRED, HUB_BASE_URL: 'https://user:s3cret@' })).toThrow(
      /^(?!.*s3cret).*HUB_BASE_URL: must be an absolute URL/,
    );
  });
});
