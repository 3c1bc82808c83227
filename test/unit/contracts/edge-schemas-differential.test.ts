import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotEventSchema } from '#lib/app/snapshot-edge.js';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { eventBridgeEvent as referenceEnvelope } from '#test/support/reference-edge/eventbridge.js';
import {
  RiskSnapshotCloudEventSchema as ReferenceCloudEvent,
  SnapshotDataSchema as ReferenceSnapshotData,
} from '#test/support/reference-edge/risk-snapshot.js';

/**
 * The snapshot function's edge schemas, built with fewer schema objects (round 6 of "Cold start",
 * README) and fewer schema types (round 7: an overwrite check for the pipe into a transform, z.int()'s
 * check without its schema, the ISO date-time built by name, the locale's tables on the first issue),
 * against the schemas as they were (test/support/reference-edge): over valid snapshot events
 * and their mutations, both accept the same events with the same parsed data, and reject the rest
 * with the same issues (code, path, message and the rest of each issue), so the same lines are recorded.
 */

const ReferenceSnapshotEvent = referenceEnvelope(ReferenceCloudEvent);

const FIXTURE_EVENTS = readFileSync(join(import.meta.dirname, '../../fixtures/upstream/stream.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line) as Record<string, unknown>)
  .filter((event) => event.type === 'risk_snapshot_updated');

const id = fc.constantFrom('s1', 's2', 's3', 'carry_fx', 'returns', 'strategies', 'a b', 'x,y');
const finite = fc.double({ min: -0.2, max: 0.2, noNaN: true });
const series = fc.array(finite, { maxLength: 6 });
const iso = fc
  .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') })
  .chain((ms) =>
    fc.constantFrom(
      new Date(ms).toISOString(),
      new Date(ms).toISOString().replace('Z', '+02:00'),
      new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'),
    ),
  );
const ref = fc.constantFrom('s3://bucket/key.json', 'file://.risk_blobs/x.json', 'redis://h/1');

/** A snapshot that is mostly valid: weights summing to 1 and every optional part in one of its upstream shapes. */
const snapshot = fc.uniqueArray(id, { minLength: 1, maxLength: 4 }).chain((ids) => {
  const weights = Object.fromEntries(ids.map((s) => [s, 1 / ids.length]));
  const covariance = fc.constant(
    Object.fromEntries(ids.flatMap((a, i) => ids.slice(i).map((b) => [`${a},${b}`, a === b ? 4e-4 : 1e-4]))),
  );
  const perStrategy = fc.constant(Object.fromEntries(ids.map((s) => [s, [0.01, -0.02]])));
  const realized = fc.oneof(
    perStrategy,
    series,
    series.map((r) => ({ returns: r })),
    series.map((r) => ({ live_returns: r, returns: r })),
    perStrategy.map((m) => ({ strategies: m })),
  );
  const metrics = fc.dictionary(fc.constantFrom('var_99', 'es_99', 'dd_max', 'max_drawdown'), finite, {
    maxKeys: 3,
  });
  const stress = fc.oneof(
    fc.dictionary(fc.constantFrom('crash', 'rates_shock'), metrics, { maxKeys: 2 }),
    fc.constant(Object.fromEntries(ids.map((s) => [s, { crash: { var_99: 0.1 } }]))),
    fc.constant({ strategies: Object.fromEntries(ids.map((s) => [s, { crash: { dd_max: 0.2 } }])) }),
  );
  return fc.record(
    {
      world_id: fc.constantFrom('w1', 'up-inline'),
      as_of: iso,
      version: fc.constantFrom('v1', 'v2'),
      weights: fc.constant(weights),
      covariance,
      covariance_ref: ref,
      realized_returns: realized,
      realized_returns_ref: ref,
      stress,
      stress_ref: ref,
      constraints: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }),
      provenance: fc.constant({ actor: 'gateway', stage: 'paper' }),
      hash: fc.string(),
      ttl_sec: fc.integer({ min: 1, max: 86_400 }),
      created_at: iso,
      event_version: fc.integer({ min: 1, max: 3 }),
      idempotency_key: fc.string(),
      extra_upstream_field: fc.jsonValue(),
    },
    { requiredKeys: ['world_id', 'as_of', 'version', 'weights'] },
  );
});

const envelope = (data: unknown, time: string) => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'risk_snapshot_updated',
  source: 'qmtl.services.worldservice',
  account: '123456789012',
  time,
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/r'],
  detail: {
    specversion: '1.0',
    id: 'ce-1',
    source: 'qmtl.services.worldservice',
    type: 'risk_snapshot_updated',
    time,
    datacontenttype: 'application/json',
    correlation_id: 'c-1',
    data,
  },
});

const validEvents = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...FIXTURE_EVENTS)
      .map((ce) => ({ ...envelope(null, ce.time as string), detail: ce })),
  },
  { weight: 4, arbitrary: fc.tuple(snapshot, iso).map(([data, time]) => envelope(data, time)) },
);

/** Values that break a field in each way the schemas tell apart. */
const oddValue = fc.oneof(
  fc.constantFrom(null, undefined, '', ' ', 'x', true, 0, -1, 1.5, 86_401, 2 ** 53 + 1, Number.NaN),
  fc.constantFrom(Number.POSITIVE_INFINITY, [], {}, [1, 'a'], [0.1, null], { a: 'b' }, { a: [1, 'x'] }),
  fc.constantFrom({ crash: { var_99: 'high' } }, { crash: 3 }, { s1: { crash: { es_99: null } } }),
  fc.constantFrom('2026-13-01T00:00:00Z', '2026-12-01T00:00:00', '2026-12-01', '2020-01-01T00:00:00Z'),
  fc.constantFrom('ftp://x', 's3://', '1.0', '0.9', 'application/xml', 'market_snapshot_updated'),
  fc.constantFrom({ 's1,s9': 0.1 }, { s1: 0.1 }, { 's1,s1': 'x' }, { 's1:s1': 1e-4, 's1,s1': 2e-4 }),
  fc.jsonValue({ maxDepth: 2 }),
);

type Json = Record<string, unknown>;

/** Every path to a value in `value`, objects and arrays included. */
function paths(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [at];
  const inner = Object.keys(value).flatMap((key) => paths((value as Json)[key], [...at, key]));
  return [at, ...inner];
}

const FIELD_PATHS = [
  ...['world_id', 'as_of', 'version', 'weights', 'covariance', 'covariance_ref', 'realized_returns'].map(
    (f) => ['detail', 'data', f],
  ),
  ...[
    'realized_returns_ref',
    'stress',
    'stress_ref',
    'constraints',
    'ttl_sec',
    'created_at',
    'event_version',
  ].map((f) => ['detail', 'data', f]),
  ['detail', 'data', 'weights', 's1'],
  ['detail', 'data', 'realized_returns', 'strategies'],
  ['detail', 'data', 'stress', 'strategies'],
  ...['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources'].map((f) => [f]),
  ...['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'correlation_id'].map((f) => [
    'detail',
    f,
  ]),
  ['detail', 'data'],
  ['replay-name'],
];

type Mutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'setField'; pick: number; value: unknown }
  | { kind: 'scaleWeights'; factor: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('setField' as const), pick: fc.nat(), value: oddValue }),
  fc.record({
    kind: fc.constant('scaleWeights' as const),
    factor: fc.constantFrom(0, 0.5, 0.9995, 1.002, 2, -1),
  }),
);

function applyMutation(event: Json, m: Mutation): void {
  if (m.kind === 'scaleWeights') {
    const weights = ((event.detail as Json)?.data as Json)?.weights;
    if (typeof weights === 'object' && weights !== null)
      for (const key of Object.keys(weights))
        (weights as Json)[key] = ((weights as Json)[key] as number) * m.factor;
    return;
  }
  const all = m.kind === 'setField' ? FIELD_PATHS : paths(event).filter((p) => p.length > 0);
  const path = all[m.pick % all.length]!;
  let parent: unknown = event;
  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return;
    parent = (parent as Json)[key];
  }
  if (typeof parent !== 'object' || parent === null) return;
  const last = path[path.length - 1]!;
  if (m.kind === 'delete') delete (parent as Json)[last];
  else (parent as Json)[last] = structuredClone(m.value);
}

const events = fc.oneof(
  validEvents,
  fc.tuple(validEvents, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([event, mutations]) => {
    const copy = structuredClone(event) as Json;
    for (const m of mutations) applyMutation(copy, m);
    return copy;
  }),
);

/** The two verdicts are the same: success and data, or the issues, in full and as the recorded lines. */
function expectSameVerdict(
  actual: ReturnType<typeof SnapshotEventSchema.safeParse>,
  reference: ReturnType<typeof ReferenceSnapshotEvent.safeParse>,
): void {
  expect(actual.success).toBe(reference.success);
  if (actual.success && reference.success) expect(actual.data).toStrictEqual(reference.data);
  if (!actual.success && !reference.success) {
    expect(actual.error.issues).toStrictEqual(reference.error.issues);
    expect(formatZodIssues(actual.error)).toStrictEqual(formatZodIssues(reference.error));
  }
}

describe('the snapshot edge schemas against the reference', () => {
  it('accept the upstream fixture events as the reference does', () => {
    expect(FIXTURE_EVENTS.length).toBeGreaterThan(0);
    for (const ce of FIXTURE_EVENTS) {
      const event = { ...envelope(null, ce.time as string), detail: ce };
      expectSameVerdict(SnapshotEventSchema.safeParse(event), ReferenceSnapshotEvent.safeParse(event));
    }
  });

  it('give the same verdict, data and issues for generated events and their mutations', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(events, (event) => {
        const actual = SnapshotEventSchema.safeParse(structuredClone(event));
        const reference = ReferenceSnapshotEvent.safeParse(structuredClone(event));
        expectSameVerdict(actual, reference);
        if (reference.success) accepted += 1;
        else rejected += 1;
      }),
      { numRuns: 1500 },
    );
    // Both verdicts are exercised.
    expect(accepted).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThan(200);
  });

  it('give the same verdict on the bare snapshot data (resolve-refs and the CLI parse it alone)', () => {
    fc.assert(
      fc.property(events, (event) => {
        const data = ((event as Json).detail as Json | undefined)?.data;
        expectSameVerdict(
          SnapshotDataSchema.safeParse(structuredClone(data)) as never,
          ReferenceSnapshotData.safeParse(structuredClone(data)) as never,
        );
      }),
      { numRuns: 500 },
    );
  });
});
