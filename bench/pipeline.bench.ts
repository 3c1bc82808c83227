import './quiet-powertools.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Metafile } from 'esbuild';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME, startLocalStack } from '#lib/local/local-stack.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';
import { allBytes, loadedBytes, outputHolding, TRACER_INPUT } from './bundle-bytes.js';
import type { ColdSample } from './cold-invocation.js';
import { type ColdStartRun, measureColdStart, printColdStart } from './cold-start.js';
import { summarize } from './cold-stats.js';
import { printInitProfile, profileInit } from './init-profile.js';
import type { BenchFigure } from './types.js';

// Issue 2 "Speed" and issue 12 item 5: what the deployed snapshot Lambda costs — bundle bytes, where its
// module init goes per package (bench/init-profile.ts), cold invocations (init and the first invocation,
// tracing off and on, beside their floors: bench/cold-start.ts), and the warm put→drain latency of one
// snapshot through the local pipeline (real SDK client, DynamoDB Local).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'functions', 'evaluate-snapshot.ts');
// Issue 12 item 5: ≤ 500 KB and ≤ 60 ms, then toward 250 KB / 40 ms.
const BUNDLE_BUDGET_BYTES = 500 * 1024;
const INIT_BUDGET_MS = 60;

const round = (x: number) => Number(x.toPrecision(4));

/** Every function entry: the pipeline bench reports each one's size. */
const FUNCTIONS = [
  'evaluate-snapshot',
  'evaluate-market',
  'sweep-outboxes',
  'approval-timeout',
  'ops-command',
];

/**
 * Bundles a function exactly as the construct does (infra/constructs/lambda-bundling.ts
 * `buildLambdaBundle`: the same call, the same settings, the compiled rule sets beside the code) and
 * returns the entry's path and the metafile.
 */
function bundle(outDir: string, entry = ENTRY): { path: string; metafile: Metafile } {
  const metafile = buildLambdaBundle(ROOT, relative(ROOT, entry), outDir);
  return { path: join(outDir, 'index.mjs'), metafile };
}

/** The largest inputs by bytes they contribute to the output (after minification), biggest first. */
function topInputs(metafile: Metafile, count: number): { input: string; bytes: number }[] {
  const rows: { input: string; bytes: number }[] = [];
  for (const output of Object.values(metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      rows.push({ input, bytes: bytesInOutput });
  return rows.sort((a, b) => b.bytes - a.bytes).slice(0, count);
}

/** Bytes per npm package (or `(project)` for our own code): the view that says what to trim. */
function bytesByPackage(metafile: Metafile): Map<string, number> {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = match?.[1] ?? '(project)';
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  return byPackage;
}

/** Environment the function validates at cold start; values are dummies (init makes no calls). */
function functionEnv(bundleDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    // As the construct starts the function: no NODE_OPTIONS (source maps are read on demand).
    SIGNALS_TABLE_NAME: 'bench-signals',
    STATE_TABLE_NAME: 'bench-state',
    AUDIT_TABLE_NAME: 'bench-audit',
    EVENT_BUS_NAME: 'bench-bus',
    RULESETS_PATH: join(bundleDir, COMPILED_RULESETS_FILE),
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Bundle sizes; prints where the bytes go and where module init goes. */
async function bundleFigures(quick: boolean): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-bench-'));
  try {
    console.log('\nfunction bundles (KB minified: loaded at init tracing off / tracing on / all files):');
    for (const name of FUNCTIONS) {
      const out = mkdtempSync(join(dir, `${name}-`));
      const { metafile: m } = bundle(out, join(ROOT, 'functions', `${name}.ts`));
      const kb = (b: number) => (b / 1024).toFixed(1).padStart(7);
      console.log(
        `  ${name.padEnd(18)} ${kb(loadedBytes(m))} ${kb(loadedBytes(m, [outputHolding(m, TRACER_INPUT)]))} ${kb(allBytes(m))}`,
      );
    }
    const { path, metafile } = bundle(dir);
    const eager = loadedBytes(metafile);
    const tracedBytes = loadedBytes(metafile, [outputHolding(metafile, TRACER_INPUT)]);
    const total = allBytes(metafile);
    console.log(
      `\nbundle ${relative(ROOT, ENTRY)}: ${(eager / 1024).toFixed(1)} KB loaded at init (${(tracedBytes / 1024).toFixed(1)} KB with the Tracer), ${(total / 1024).toFixed(1)} KB in all files`,
    );
    console.log('  top inputs by bytes in the bundle (all files):');
    for (const { input, bytes: b } of topInputs(metafile, 5))
      console.log(`    ${(b / 1024).toFixed(1).padStart(7)} KB  ${input}`);
    console.log('  by package (all files):');
    const packages = [...bytesByPackage(metafile)].sort((a, b) => b[1] - a[1]).slice(0, 10);
    for (const [name, b] of packages) console.log(`    ${(b / 1024).toFixed(1).padStart(7)} KB  ${name}`);

    printInitProfile(
      'module init by package, tracing off',
      profileInit(path, functionEnv(dir), quick ? 2 : 5),
      10,
    );
    return [
      {
        name: 'lambda bundle loaded at init, tracing on as in Lambda (evaluate-snapshot, minified)',
        unit: 'KB',
        median: round(tracedBytes / 1024),
        budget: `< ${BUNDLE_BUDGET_BYTES / 1024} KB`,
        ok: tracedBytes < BUNDLE_BUDGET_BYTES,
      },
      {
        name: 'lambda bundle loaded at init, tracing off (evaluate-snapshot, minified)',
        unit: 'KB',
        median: round(eager / 1024),
        budget: `< ${BUNDLE_BUDGET_BYTES / 1024} KB`,
        ok: eager < BUNDLE_BUDGET_BYTES,
      },
      {
        name: 'lambda bundle, all files incl. lazy chunks (evaluate-snapshot, minified)',
        unit: 'KB',
        median: round(total / 1024),
        budget: 'report',
        ok: true,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface DemoEvent {
  source: string;
  'detail-type': string;
  detail: { id: string; time: string; data: Record<string, unknown> & { world_id: string } };
}

/** The first snapshot of the demo stream: a realistic 5-strategy world. */
function templateEvent(): DemoEvent {
  const line = readFileSync(join(ROOT, 'examples', 'demo-world.jsonl'), 'utf8')
    .split('\n')
    .find((l) => l.includes('"risk_snapshot_updated"'));
  if (!line) throw new Error('examples/demo-world.jsonl has no risk_snapshot_updated event');
  return JSON.parse(line) as DemoEvent;
}

/** The i-th distinct snapshot: a new version one second after the previous, fresh by the wall clock. */
function snapshotEntry(template: DemoEvent, i: number, baseMs: number) {
  const asOf = new Date(baseMs + i * 1000).toISOString();
  const detail = {
    ...template.detail,
    id: `bench-${i}`,
    time: asOf,
    data: {
      ...template.detail.data,
      as_of: asOf,
      created_at: asOf,
      version: `bench-v${i}`,
      idempotency_key: `bench-${template.detail.data.world_id}-${i}`,
    },
  };
  return {
    EventBusName: LOCAL_BUS_NAME,
    Source: template.source,
    DetailType: template['detail-type'],
    Time: new Date(baseMs + i * 1000),
    Detail: JSON.stringify(detail),
  };
}

/** Warm put→drain latency of one snapshot through the local pipeline. */
async function warmLatencyFigure(quick: boolean): Promise<BenchFigure> {
  const stack = await startLocalStack({ tablePrefix: `bench-${process.pid}-` });
  const client = new EventBridgeClient({
    endpoint: stack.busEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    console.log(`\nwarm handler latency against ${stack.dynamoKind} at ${stack.dynamoEndpoint}`);
    const template = templateEvent();
    const warmup = quick ? 3 : 20;
    const measured = quick ? 10 : 200;
    // Start far enough back that the last snapshot is still not in the future, yet none is stale.
    const baseMs = Date.now() - (warmup + measured + 60) * 1000;
    const times: number[] = [];
    for (let i = 0; i < warmup + measured; i++) {
      const entry = snapshotEntry(template, i, baseMs);
      const start = performance.now();
      const out = await client.send(new PutEventsCommand({ Entries: [entry] }));
      await stack.bus.drain();
      const elapsed = performance.now() - start;
      if ((out.FailedEntryCount ?? 0) > 0)
        throw new Error(`PutEvents rejected a snapshot: ${JSON.stringify(out.Entries)}`);
      if (i >= warmup) times.push(elapsed);
    }
    const failed = stack.bus.deadLetters().length;
    if (failed > 0) throw new Error(`${failed} snapshot deliveries failed past their retries`);
    const { median, p99 } = summarize(times);
    return {
      name: `warm handler latency, one snapshot put→drain (${stack.dynamoKind}, ${measured} runs)`,
      unit: 'ms',
      median: round(median),
      p99: round(p99),
      budget: 'report',
      ok: true,
    };
  } finally {
    client.destroy();
    await stack.stop();
  }
}

/**
 * The cold-start figures: module init against the budget, init + first invocation (silent and
 * publishing, tracing off and on), and the floors under them.
 */
function coldFigures(run: ColdStartRun): BenchFigure[] {
  const n = `${run.rounds} fresh processes`;
  // An arm the run left out (the SDK floor without the SDK installed) has no figure.
  const figure = (name: string, key: string, measure: (s: ColdSample) => number, budget?: number) => {
    const samples = run.samples.get(key) ?? [];
    if (samples.length === 0) return [];
    const { median, p90 } = summarize(samples.map(measure));
    return [
      {
        name: `${name} (${n}; p90 ${round(p90)})`,
        unit: 'ms',
        median: round(median),
        budget: budget === undefined ? 'report' : `< ${budget} ms`,
        ok: budget === undefined || median < budget,
      },
    ];
  };
  const init = (s: ColdSample) => s.initCpuMs;
  const total = (s: ColdSample) => s.totalCpuMs;
  return [
    figure('bundle module init, CPU, tracing off', 'silent-off', init, INIT_BUDGET_MS),
    figure('bundle module init, CPU, tracing on (as in Lambda)', 'silent-on', init, INIT_BUDGET_MS),
    figure(
      'bundle module init after Lambda runtime start-up (http loaded), CPU, tracing off',
      'runtime-silent-off',
      init,
    ),
    figure(
      'bundle module init after Lambda runtime start-up (http loaded), CPU, tracing on',
      'runtime-silent-on',
      init,
    ),
    figure('cold invocation, init + first invocation, CPU, silent, tracing off', 'silent-off', total),
    figure('cold invocation, init + first invocation, CPU, silent, tracing on', 'silent-on', total),
    figure(
      'cold invocation, init + first invocation, wall, silent, tracing on',
      'silent-on',
      (s) => s.totalMs,
    ),
    figure('cold invocation, init + first invocation, CPU, publishing, tracing off', 'publishing-off', total),
    figure(
      'first invocation, CPU, silent, tracing off, world on a published rule set stored with its document JSON',
      'published-document-off',
      (s) => s.invokeCpuMs,
    ),
    figure(
      'first invocation, CPU, silent, tracing off, world on a published rule set stored as text only',
      'published-text-off',
      (s) => s.invokeCpuMs,
    ),
    figure('cold invocation, init + first invocation, CPU, publishing, tracing on', 'publishing-on', total),
    figure('floor: one GetItem through aws-json, init + first call, CPU', 'aws-json-floor', total),
    figure('floor: the DynamoDB SDK client, init + first GetItem, CPU', 'sdk-floor', total),
    figure('Node start-up before the import, CPU (not in init)', 'empty', (s) => s.startupCpuMs),
  ].flat();
}

/** Runs the pipeline benchmarks (bundle size, cold start, warm latency) and returns their figures. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const quick = opts.quick === true;
  const sizes = await bundleFigures(quick);
  const cold = await measureColdStart({ rounds: quick ? 3 : 21, profileRuns: quick ? 1 : 3 });
  printColdStart(cold);
  return [...sizes, ...coldFigures(cold), await warmLatencyFigure(quick)];
}
