import { gunzipSync } from 'node:zlib';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { usePipeline } from './support/pipeline.js';
import { marketPutEntry, putEntry, WEIGHTS } from './support/snapshots.js';

/**
 * A world whose rule set has a VaR limit and a VIX rule, through the local pipeline on DynamoDB
 * Local: its latest snapshot keeps only the positions (weights, constraints, provenance), and a
 * market re-evaluation re-runs the VIX rule on them while the VaR episode is carried as the hub
 * evaluation left it (lib/engine/snapshot-reuse.ts).
 */
describe('partial market re-evaluation from the compact record (DynamoDB Local)', () => {
  const p = usePipeline({
    name: 'partial',
    rulesetsPath: 'test/fixtures/rulesets/market',
    clock: 'event-time',
  });
  const put = (entry: PutEventsRequestEntry) => p.put(entry);
  const emitted = (world: string) => p.emitted(world);
  const stored = async (world: string) => {
    const items = await p.read.state();
    const record = items.find((i) => i.pk === `WORLD#${world}` && i.sk === 'LATEST');
    const body = items.find((i) => i.pk === `WORLD#${world}` && i.sk === record?.snapshot_ref);
    const bytes = body?.body as Uint8Array | undefined;
    return {
      record,
      bytes: bytes?.byteLength ?? Number.POSITIVE_INFINITY,
      body: bytes ? (JSON.parse(gunzipSync(bytes).toString('utf8')) as Record<string, unknown>) : undefined,
    };
  };

  it('fires the VIX rule on a silent new-content snapshot kept as its positions alone', async () => {
    const world = 'w-partial';
    await put(
      putEntry({ world, version: 'v1', asOf: '2025-03-10T21:00:00Z', varLevel: 0.014 }, LOCAL_BUS_NAME),
    );
    // New content (another covariance), nothing fires.
    await put(
      putEntry({ world, version: 'v2', asOf: '2025-03-10T21:01:00Z', varLevel: 0.016 }, LOCAL_BUS_NAME),
    );
    expect(emitted(world)).toHaveLength(0);
    const { record, body, bytes } = await stored(world);
    expect(record).toMatchObject({ version: 'v2', body_kept: 'positions' });
    expect(Object.keys(body ?? {}).sort()).toEqual(['provenance', 'weights']);
    expect(body?.weights).toEqual(WEIGHTS);
    expect(bytes).toBeLessThan(1024);

    await put(marketPutEntry('m-partial-1', '2025-03-10T21:02:00Z', 45, LOCAL_BUS_NAME, [world]));
    const [spike] = emitted(world);
    expect(spike?.data.snapshot_version).toBe('v2');
    expect(spike?.data.signals.map((s) => [s.strategy_id, s.action, s.reason])).toEqual([
      ['alpha', 'exit', 'volatility_regime_breach'],
      ['beta', 'exit', 'volatility_regime_breach'],
      ['gamma', 'exit', 'volatility_regime_breach'],
    ]);
    // The re-evaluation's audit row lists the rule it re-ran; the VaR episode was carried, not re-measured.
    const audits = await p.read.audit(world);
    const market = audits.find(
      (a) =>
        a.kind === 'evaluation' &&
        (a.provenance as Record<string, unknown>)?.source_event_id === 'm-partial-1',
    );
    expect(market).toBeDefined();
    expect((market!.rules as { rule_id: string }[]).map((r) => r.rule_id)).toEqual(['vix_panic']);
  });

  it('answers the VIX clear with the VaR cut the carried episode still stands by', async () => {
    const world = 'w-partial-standing';
    await put(
      putEntry({ world, version: 'v1', asOf: '2025-03-11T21:00:00Z', varLevel: 0.014 }, LOCAL_BUS_NAME),
    );
    await put(marketPutEntry('m-standing-1', '2025-03-11T21:01:00Z', 45, LOCAL_BUS_NAME, [world]));
    // The next hub snapshot breaches the VaR limit: its reduce is merged under the standing VIX exit.
    await put(
      putEntry({ world, version: 'v2', asOf: '2025-03-11T21:02:00Z', varLevel: 0.03 }, LOCAL_BUS_NAME),
    );
    // VIX calms: its exit is lifted, but not to `hold`, since the VaR episode still stands.
    await put(marketPutEntry('m-standing-2', '2025-03-11T21:03:00Z', 20, LOCAL_BUS_NAME, [world]));
    const calm = emitted(world).at(-1)!;
    expect(calm.data.provenance).toMatchObject({ source_event_id: 'm-standing-2' });
    expect(calm.data.signals.map((s) => [s.action, s.reason])).toEqual([
      ['reduce', 'var_limit_breach'],
      ['reduce', 'var_limit_breach'],
      ['reduce', 'var_limit_breach'],
    ]);
    expect(calm.data.signals[0]?.metrics).toMatchObject({
      rule_id: 'var_99_limit',
      cleared_rule_id: 'vix_panic',
      standing_from: 'episode_state',
    });
  });
});
