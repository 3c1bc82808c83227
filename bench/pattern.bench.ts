import { pathToFileURL } from 'node:url';
import { compileEventPattern } from '#lib/local/event-pattern.js';
import { mulberry32 } from '#lib/prng.js';
import type { BenchFigure } from './types.js';

// The local bus's event-pattern matcher (issue 12): a realistic five-field rule against a ~6 KB
// risk_snapshot_updated event, relative to JSON.parse of that event (the cost every delivery pays
// anyway), and the wildcard that used to backtrack for seconds.

/** A risk_snapshot_updated EventBridge event of about `bytes` of JSON. */
function snapshotEventText(bytes: number): string {
  const rand = mulberry32(7);
  const weights: Record<string, number> = {};
  const covariance: Record<string, number> = {};
  const event = {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'risk_snapshot_updated',
    source: 'qmtl.services.worldservice',
    account: '111122223333',
    time: '2026-12-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      specversion: '1.0',
      id: 'b1c5e6c2-3f7d-4a43-9a55-0d6f8f7f8e11',
      source: 'qmtl.services.worldservice',
      type: 'risk_snapshot_updated',
      time: '2026-12-01T12:00:00Z',
      datacontenttype: 'application/json',
      correlation_id: 'risk_snapshot:world-eu-1:blake3:abc',
      data: {
        world_id: 'world-eu-1',
        as_of: '2026-12-01T12:00:00Z',
        version: 'v42',
        weights,
        covariance,
        provenance: { actor: 'risk-hub', stage: 'live' },
        hash: 'blake3:abc',
        ttl_sec: 900,
        created_at: '2026-12-01T12:00:00Z',
        event_version: 1,
        idempotency_key: 'risk_snapshot_updated:world-eu-1:blake3:abc:1',
      },
    },
  };
  for (let i = 0; JSON.stringify(event).length < bytes; i++) {
    const id = `strategy_${String(i).padStart(3, '0')}`;
    weights[id] = Number(rand().toFixed(6));
    covariance[`${id},${id}`] = Number((rand() / 1000).toFixed(8));
  }
  return JSON.stringify(event);
}

/** Per-call time in µs: the median of `samples` batches of `batch` calls. */
function timeUs(fn: () => unknown, samples: number, batch: number): number {
  for (let i = 0; i < batch; i++) fn();
  const times = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let b = 0; b < batch; b++) fn();
    times[s] = ((performance.now() - start) / batch) * 1e3;
  }
  return times.sort()[samples >> 1]!;
}

const round = (x: number) => Number(x.toPrecision(4));

/** Runs the pattern benchmarks and returns their figures. */
export async function run(): Promise<BenchFigure[]> {
  const text = snapshotEventText(6 * 1024);
  const matcher = compileEventPattern({
    source: ['qmtl.services.worldservice'],
    'detail-type': ['risk_snapshot_updated'],
    detail: {
      type: ['risk_snapshot_updated'],
      data: {
        world_id: [{ wildcard: 'world-*-1' }],
        provenance: { stage: [{ 'anything-but': ['backtest', 'dryrun'] }] },
      },
    },
  });
  const event = JSON.parse(text) as unknown;
  if (!matcher(event)) throw new Error('the bench pattern must match its event');
  let sink = 0;
  const parseUs = timeUs(
    () => {
      sink += (JSON.parse(text) as { id: string }).id.length;
    },
    31,
    200,
  );
  const matchUs = timeUs(
    () => {
      sink += matcher(event) ? 1 : 0;
    },
    31,
    2000,
  );
  const adversarial = compileEventPattern({ k: [{ wildcard: '*a*a*a*a*b' }] });
  const value = { k: 'a'.repeat(256) };
  const adversarialUs = timeUs(
    () => {
      sink += adversarial(value) ? 1 : 0;
    },
    31,
    200,
  );
  if (sink === 0) throw new Error('unreachable: keeps the timed work alive');
  return [
    {
      name: `event pattern, 5 fields vs a ${(text.length / 1024).toFixed(1)} KB snapshot event: match time / JSON.parse time (match ${round(matchUs)} µs, parse ${round(parseUs)} µs)`,
      unit: 'ratio',
      median: round(matchUs / parseUs),
      budget: '< 0.1',
      ok: matchUs / parseUs < 0.1,
    },
    {
      name: 'wildcard *a*a*a*a*b against 256 × "a" (backtracking regex: over a minute)',
      unit: 'µs',
      median: round(adversarialUs),
      budget: '< 100 µs',
      ok: adversarialUs < 100,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of await run())
    console.log(`${f.ok ? 'ok  ' : 'SLOW'} ${f.name}: median ${f.median} ${f.unit} (budget ${f.budget})`);
}
