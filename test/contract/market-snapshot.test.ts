import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { concernsWorld, toMarketScopeView } from '#lib/contracts/market-scope-view.js';
import { MarketSnapshotCloudEventSchema, type MarketSnapshotData } from '#lib/contracts/market-snapshot.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schema = JSON.parse(
  readFileSync(path.join(repoRoot, 'schemas/market_snapshot_updated.schema.json'), 'utf8'),
) as object;
const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats.default(ajv);
const validateJson = ajv.compile(schema);

/** A complete, valid event; fixtures below are variations of it. */
function goodEvent(): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: '6f1c1c9e-9a53-4b47-8a43-2f4f2e0f5a10',
    source: 'qmtl.services.market_data',
    type: 'market_snapshot_updated',
    time: '2025-01-01T00:05:00Z',
    datacontenttype: 'application/json',
    correlation_id: 'market:global:2025-01-01T00:05:00Z',
    data: {
      scope: 'global',
      as_of: '2025-01-01T00:05:00+00:00',
      indicators: { vix: 31.5, vix3m: 27.2, move: 120 },
      series: {
        strategy_a: {
          spread: [0.0004, 0.0005, 0.0009],
          dollar_volume: [1e6, 2e6, 5e5],
          returns: [0.001, -0.002, -0.01],
          adv_util: [0.05, 0.07, 0.12],
          depth: [100, 90, 40],
        },
      },
      event_version: 1,
      idempotency_key: 'market_snapshot_updated:global:2025-01-01T00:05:00Z:1',
    },
  };
}

type Mutation = (event: Record<string, unknown>, data: Record<string, unknown>) => void;

function variant(mutate: Mutation): Record<string, unknown> {
  const event = goodEvent();
  mutate(event, event.data as Record<string, unknown>);
  return event;
}

const good: [string, Record<string, unknown>][] = [
  ['complete', goodEvent()],
  [
    'minimal: indicators only, no series or worlds',
    variant((_, d) => {
      delete d.series;
      d.indicators = { vix: 18 };
    }),
  ],
  [
    'empty indicators (series-only liquidity update)',
    variant((_, d) => {
      d.indicators = {};
    }),
  ],
  [
    'a world-scoped update naming its worlds',
    variant((_, d) => {
      d.scope = 'venue:xnys';
      d.worlds = ['world-a', 'world-b'];
    }),
  ],
  [
    'unknown keys in the envelope, data and a series entry',
    variant((e, d) => {
      e.traceparent = '00-abc';
      d.producer = { name: 'feed' };
    }),
  ],
  [
    'negative spread (a crossed quote) and negative indicator',
    variant((_, d) => {
      d.indicators = { vix: 20, skew_index: -1.5 };
      (d.series as Record<string, Record<string, number[]>>).strategy_a!.spread = [-0.0001];
    }),
  ],
];

const bad: [string, Mutation, RegExp][] = [
  [
    'wrong type',
    (e) => {
      e.type = 'risk_snapshot_updated';
    },
    /^type: /,
  ],
  [
    'wrong specversion',
    (e) => {
      e.specversion = '0.3';
    },
    /^specversion: /,
  ],
  [
    'missing correlation_id',
    (e) => {
      delete e.correlation_id;
    },
    /^correlation_id: /,
  ],
  [
    'time without a zone',
    (e) => {
      e.time = '2025-01-01T00:05:00';
    },
    /^time: /,
  ],
  [
    'missing scope',
    (_, d) => {
      delete d.scope;
    },
    /^data\.scope: /,
  ],
  [
    'empty scope',
    (_, d) => {
      d.scope = '';
    },
    /^data\.scope: must not be empty/,
  ],
  [
    'as_of not a date-time',
    (_, d) => {
      d.as_of = 'yesterday';
    },
    /^data\.as_of: must be an ISO 8601/,
  ],
  [
    'missing indicators',
    (_, d) => {
      delete d.indicators;
    },
    /^data\.indicators: /,
  ],
  [
    'non-numeric indicator',
    (_, d) => {
      d.indicators = { vix: 20, regime: 'calm' };
    },
    /^data\.indicators\.regime: must be a finite number/,
  ],
  [
    'zero vix3m',
    (_, d) => {
      d.indicators = { vix: 20, vix3m: 0 };
    },
    /^data\.indicators\.vix3m: must be greater than 0/,
  ],
  [
    'string in a spread series',
    (_, d) => {
      (d.series as Record<string, Record<string, unknown>>).strategy_a!.spread = [0.001, 'wide'];
    },
    /^data\.series\.strategy_a\.spread\[1\]: must be a finite number/,
  ],
  [
    'negative dollar volume',
    (_, d) => {
      (d.series as Record<string, Record<string, unknown>>).strategy_a!.dollar_volume = [-1];
    },
    /^data\.series\.strategy_a\.dollar_volume\[0\]: must be 0 or more/,
  ],
  [
    'extra series not numeric',
    (_, d) => {
      (d.series as Record<string, Record<string, unknown>>).strategy_a!.depth = 'deep';
    },
    /^data\.series\.strategy_a\.depth: /,
  ],
  [
    'empty worlds list',
    (_, d) => {
      d.worlds = [];
    },
    /^data\.worlds: must name at least one world/,
  ],
  [
    'event_version 0',
    (_, d) => {
      d.event_version = 0;
    },
    /^data\.event_version: must be a whole number ≥ 1/,
  ],
  [
    'fractional event_version',
    (_, d) => {
      d.event_version = 1.5;
    },
    /^data\.event_version: /,
  ],
  [
    'missing idempotency_key',
    (_, d) => {
      delete d.idempotency_key;
    },
    /^data\.idempotency_key: /,
  ],
];

describe('market_snapshot_updated contract', () => {
  it('publishes a draft 2020-12 schema', () => {
    expect((schema as { $schema: string }).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it.each(good)('accepts %s in both the zod schema and the JSON Schema', (_, event) => {
    const parsed = MarketSnapshotCloudEventSchema.safeParse(event);
    expect(parsed.success ? [] : formatZodIssues(parsed.error)).toEqual([]);
    expect(validateJson(event), JSON.stringify(validateJson.errors)).toBe(true);
  });

  it.each(bad)('rejects %s in both, naming the field', (_, mutate, message) => {
    const event = variant(mutate);
    const parsed = MarketSnapshotCloudEventSchema.safeParse(event);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(formatZodIssues(parsed.error).join('\n')).toMatch(message);
    expect(validateJson(event)).toBe(false);
  });

  it('turns data into the view the rules read', () => {
    const parsed = MarketSnapshotCloudEventSchema.parse(goodEvent());
    const view = toMarketScopeView(parsed.data);
    expect(view).toEqual({
      scope: 'global',
      as_of: '2025-01-01T00:05:00+00:00',
      asOfMs: Date.parse('2025-01-01T00:05:00Z'),
      indicators: { vix: 31.5, vix3m: 27.2, move: 120 },
      series: {
        strategy_a: {
          spread: [0.0004, 0.0005, 0.0009],
          dollar_volume: [1e6, 2e6, 5e5],
          returns: [0.001, -0.002, -0.01],
          adv_util: [0.05, 0.07, 0.12],
          depth: [100, 90, 40],
        },
      },
    });
  });

  it('gives an empty series map when the event has none', () => {
    const data = MarketSnapshotCloudEventSchema.parse(variant((_, d) => void delete d.series)).data;
    expect(toMarketScopeView(data).series).toEqual({});
  });

  it('concerns every world when `worlds` is absent, else only those named', () => {
    const every = { worlds: undefined } satisfies Pick<MarketSnapshotData, 'worlds'>;
    expect(concernsWorld(every, 'anything')).toBe(true);
    expect(concernsWorld({ worlds: ['a'] }, 'a')).toBe(true);
    expect(concernsWorld({ worlds: ['a'] }, 'b')).toBe(false);
  });
});
