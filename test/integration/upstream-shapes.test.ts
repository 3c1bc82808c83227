import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { controlbusToStream, replayStream } from '#lib/cli/commands/local.js';
import { usePipeline } from './support/pipeline.js';

/**
 * Snapshots as upstream QMTL's own producer path makes them (test/fixtures/upstream/generate.py
 * mirrors RiskHubClient, the hub's offload and ControlBusProducer), refs written by its file blob
 * store with the default relative base_dir `.risk_blobs`, through the real local pipeline.
 */
const FIXTURES = 'test/fixtures/upstream';
const STREAM = `${FIXTURES}/stream.jsonl`;
const RULES = `${FIXTURES}/rulesets`;
const WORLDS = [
  'up-inline',
  'up-hub-offload',
  'up-hub-bare',
  'up-client-returns',
  'up-single',
  'up-live-returns',
  'up-nested',
  'up-nested-stress',
  'up-stress-ref',
];

type Outcome = { rule_id: string; scope_key: string; measure: number | null; unavailable?: string };

describe('upstream producer shapes through the local pipeline', () => {
  let counts: Record<string, number>;
  const printed: string[] = [];
  const evaluation = new Map<string, Outcome[]>();

  const p = usePipeline({
    name: 'upstream',
    clock: 'event-time',
    rulesetsPath: RULES,
    fileRefRoot: FIXTURES,
  });
  beforeAll(async () => {
    // Verbose: one line per strategy, so each strategy's decision can be checked.
    counts = await replayStream(p.stack, readFileSync(STREAM, 'utf8'), (l) => printed.push(l), {
      verbose: true,
    });
    for (const world of WORLDS) {
      const record = (await p.read.audit(world)).find((r) => r.kind === 'evaluation');
      evaluation.set(world, (record?.rules as Outcome[] | undefined) ?? []);
    }
  });

  const measure = (world: string, rule: string, key = 'world') =>
    evaluation.get(world)?.find((o) => o.rule_id === rule && o.scope_key === key)?.measure;

  it('evaluates every world and rejects none', () => {
    expect(printed.filter((l) => l.includes('REJECTED'))).toEqual([]);
    expect(counts.rejected).toBeUndefined();
    for (const world of WORLDS) expect(evaluation.get(world)?.length, world).toBeGreaterThan(0);
  });

  it('reads offloaded covariance and per-strategy returns (<version>.json, <version>-realized.json)', () => {
    expect(measure('up-hub-offload', 'var_99_limit')).toBeGreaterThan(0.025);
    expect(measure('up-hub-offload', 'var_95_historical')).toBeGreaterThan(0);
  });

  it('reads a portfolio-level series: bare array, {"returns"}, {"live_returns"}', () => {
    for (const world of ['up-hub-bare', 'up-client-returns', 'up-live-returns']) {
      expect(measure(world, 'var_95_historical'), world).toBeGreaterThan(0);
      expect(measure(world, 'portfolio_drawdown'), world).toBeTypeOf('number');
    }
    // The same bare series offloaded two ways (hub: bare array; client: {"returns": [...]}) reads the same.
    const bare = JSON.parse(readFileSync(`${FIXTURES}/.risk_blobs/up-hub-bare-v1-realized.json`, 'utf8'));
    const wrapped = JSON.parse(
      readFileSync(`${FIXTURES}/.risk_blobs/up-client-returns-v1-realized.json`, 'utf8'),
    );
    expect(Array.isArray(bare)).toBe(true);
    expect(Object.keys(wrapped)).toEqual(['returns']);
  });

  it("gives a one-strategy world's series to its strategy", () => {
    expect(measure('up-single', 'var_95_historical')).toBeGreaterThan(0);
    expect(printed.some((l) => /SIGNAL .* up-single REDUCE solo .* var_limit_breach/.test(l))).toBe(true);
  });

  it('reads {"strategies": {...}} returns by ref and per-strategy stress, nested or not', () => {
    expect(measure('up-nested', 'var_95_historical')).toBeGreaterThan(0);
    expect(printed.filter((l) => /SIGNAL .* up-nested EXIT /.test(l))).toEqual([
      expect.stringMatching(/up-nested EXIT {3}s3 .* stress_per_strategy: 40\.00%/),
    ]);
    expect(printed.filter((l) => /SIGNAL .* up-nested-stress EXIT /.test(l))).toHaveLength(5);
  });

  it('reads 101 offloaded stress scenarios (<version>-stress.json) and finds the breaching one', () => {
    expect(printed.filter((l) => /up-stress-ref EXIT .* stress_world: 33\.00%/.test(l))).toHaveLength(5);
  });
});

describe("upstream's relative file:// refs without --file-ref-root", () => {
  const printed: string[] = [];

  const p = usePipeline({ name: 'upstream-rel', clock: 'event-time', rulesetsPath: RULES });
  beforeAll(async () => {
    await replayStream(p.stack, readFileSync(STREAM, 'utf8'), (l) => printed.push(l));
  });

  it('rejects them saying what to configure, not with a URL parser error', () => {
    const line = printed.find((l) => l.includes('REJECTED up-hub-bare'));
    expect(line).toContain(
      'realized_returns_ref: file://.risk_blobs/up-hub-bare-v1-realized.json is a relative path',
    );
    expect(line).toContain('--file-ref-root DIR');
    expect(line).toContain('--hub-url');
  });
});

describe('npm start -- --events (the upstream fixtures, as a user runs them)', () => {
  it('replays every upstream shape and exits 0 with no rejection', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/exit-engine.js', 'local', '--events', STREAM, '--file-ref-root', FIXTURES, '--rules', RULES],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' } },
    );
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('REJECTED');
    expect(run.stdout).toContain('done: 9 events, 8 exit_signal_emitted with 42 signals');
  }, 300_000);
});

describe('ControlBus records (as the EventBridge Pipe delivers them) through the local pipeline', () => {
  const printed: string[] = [];
  let counts: Record<string, number>;

  const p = usePipeline({
    name: 'controlbus',
    clock: 'event-time',
    rulesetsPath: RULES,
    fileRefRoot: FIXTURES,
  });
  beforeAll(async () => {
    const print = (l: string) => printed.push(l);
    const text = controlbusToStream(readFileSync(`${FIXTURES}/controlbus.jsonl`, 'utf8'), print);
    counts = await replayStream(p.stack, text, print);
  });

  it('evaluates every hub snapshot on the topic, as --events does, and filters the rest', () => {
    expect(counts).toMatchObject({ events: 9, published_events: 8, signals: 42 });
    expect(counts.rejected).toBeUndefined();
    expect(printed).toContain('line 10:  FILTERED by the pipe (type "policy_updated"): not a hub snapshot');
    const sources = new Set(p.stack.outcomes.map((o) => o.world_id));
    expect([...sources].sort()).toEqual([...WORLDS].sort());
  });
});
