import './quiet-powertools.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Metafile } from 'esbuild';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME, startLocalStack } from '#lib/local/local-stack.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';
import { printInitProfile, profileInit } from './init-profile.js';
import type { BenchFigure } from './types.js';

// Issue 2 "Speed" and issue 12 item 5: what the deployed snapshot Lambda costs — bundle bytes, cold
// module init with and without the Tracer (and where that init goes, per package: bench/init-profile.ts),
// and the warm put→drain latency of one snapshot through the local pipeline (real SDK client, DynamoDB Local).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'functions', 'evaluate-snapshot.ts');
// Only the DynamoDB client the first call needs, bundled the same way: the floor under ENTRY's init.
const FLOOR_ENTRY = join(ROOT, 'bench', 'cold-start-floor.ts');
// Issue 12 item 5: ≤ 500 KB and ≤ 60 ms, then toward 250 KB / 40 ms.
const BUNDLE_BUDGET_BYTES = 500 * 1024;
const INIT_BUDGET_MS = 60;

/** Median and p99 (nearest rank) of a sample; the input is not modified. */
function summarize(samples: readonly number[]): { median: number; p99: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99) };
}

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

/** The output of the metafile that holds `input` (a path relative to the project root). */
function outputHolding(metafile: Metafile, input: string): string | undefined {
  return Object.entries(metafile.outputs).find(([, o]) => input in o.inputs)?.[0];
}

/**
 * Bytes of the JavaScript a cold start loads: the entry and what it imports statically, plus, for
 * `alsoLoaded` (e.g. the Tracer's chunk where tracing is on), those chunks and their static imports.
 * Chunks reached only through `import()` are not loaded until called.
 */
function loadedBytes(metafile: Metafile, alsoLoaded: readonly (string | undefined)[] = []): number {
  const entry = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint !== undefined)?.[0];
  const seen = new Set<string>();
  const visit = (path: string | undefined) => {
    if (path === undefined || seen.has(path) || !metafile.outputs[path]) return;
    seen.add(path);
    for (const imp of metafile.outputs[path].imports)
      if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(entry);
  for (const path of alsoLoaded) visit(path);
  let bytes = 0;
  for (const path of seen) bytes += metafile.outputs[path]!.bytes;
  return bytes;
}

/** Bytes of every JavaScript file of the bundle (source maps aside). */
function allBytes(metafile: Metafile): number {
  let bytes = 0;
  for (const [path, o] of Object.entries(metafile.outputs)) if (path.endsWith('.mjs')) bytes += o.bytes;
  return bytes;
}

/** The Tracer's chunk: loaded at cold start where tracing is on (lib/observability.ts). */
const TRACER_INPUT = 'node_modules/@aws-lambda-powertools/tracer/lib/esm/Tracer.js';

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

// Wall time, and the process's own CPU time over the import: on a loaded shared machine the wall time
// also counts other processes' time slices, the CPU time much less so. "Init" is the import alone: Node's
// own start-up before it (bootstrap, this script's loading) is in processCpuMs, the process's CPU so far.
const INIT_SCRIPT = `const start = performance.now();
const cpu = process.cpuUsage();
await import(process.argv[2]);
const used = process.cpuUsage(cpu);
const total = process.cpuUsage();
process.stdout.write(JSON.stringify({ ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, processCpuMs: (total.user + total.system) / 1000 }));
`;

/** What one fresh process reports: the import's wall and CPU time, and the process's CPU up to its end. */
interface InitSample {
  ms: number;
  cpuMs: number;
  processCpuMs: number;
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

/**
 * As Lambda with Active tracing runs it: `AWS_EXECUTION_ENV` makes the function load Powertools' Tracer
 * and capture its SDK clients (lib/observability.ts). No `LAMBDA_TASK_ROOT`, so aws-xray-sdk-core does
 * not write its Lambda marker file under /tmp.
 */
function tracedEnv(bundleDir: string): NodeJS.ProcessEnv {
  return { ...functionEnv(bundleDir), AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
}

/** Runs one fresh Node process that imports the bundle and reports how long the import took. */
function measureInitOnce(scriptPath: string, bundleUrl: string, env: NodeJS.ProcessEnv): Promise<InitSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [scriptPath, bundleUrl], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bundle init failed (exit ${code}): ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as InitSample);
      } catch {
        reject(new Error(`bundle init printed no timing: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}

/** Bundle size and cold init figures; prints where the bytes go. */
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
    for (const { input, bytes: b } of topInputs(metafile, 10))
      console.log(`    ${(b / 1024).toFixed(1).padStart(7)} KB  ${input}`);
    console.log('  by package (all files):');
    const packages = [...bytesByPackage(metafile)].sort((a, b) => b[1] - a[1]).slice(0, 10);
    for (const [name, b] of packages) console.log(`    ${(b / 1024).toFixed(1).padStart(7)} KB  ${name}`);

    // The floor: the DynamoDB client alone, bundled the same way; and an empty module.
    const floor = bundle(mkdtempSync(join(dir, 'floor-')), FLOOR_ENTRY);
    console.log(
      `  floor (${relative(ROOT, FLOOR_ENTRY)}, the DynamoDB client alone): ${(loadedBytes(floor.metafile) / 1024).toFixed(1)} KB loaded at init`,
    );

    const scriptPath = join(dir, 'measure-init.mjs');
    writeFileSync(scriptPath, INIT_SCRIPT);
    const plain = functionEnv(dir);
    const traced = tracedEnv(dir);
    const url = pathToFileURL(path).href;
    const floorUrl = pathToFileURL(floor.path).href;
    const emptyUrl = 'data:text/javascript,export{}';
    // One unmeasured run of each primes the OS file cache, as a warm Lambda host would have it.
    await measureInitOnce(scriptPath, url, plain);
    await measureInitOnce(scriptPath, url, traced);
    await measureInitOnce(scriptPath, floorUrl, plain);
    // Without and with the Tracer, the floor and an empty module, alternating, so load from other processes
    // hits them alike.
    const runs = quick ? 7 : 31;
    const samples = {
      plain: [] as InitSample[],
      traced: [] as InitSample[],
      floor: [] as InitSample[],
      empty: [] as InitSample[],
    };
    for (let i = 0; i < runs; i++) {
      samples.plain.push(await measureInitOnce(scriptPath, url, plain));
      samples.traced.push(await measureInitOnce(scriptPath, url, traced));
      samples.floor.push(await measureInitOnce(scriptPath, floorUrl, plain));
      samples.empty.push(await measureInitOnce(scriptPath, emptyUrl, plain));
    }
    const cpuMedian = (list: InitSample[]) => summarize(list.map((x) => x.cpuMs)).median;
    console.log(
      `  init CPU medians (ms): tracing off ${cpuMedian(samples.plain).toFixed(1)}, on ${cpuMedian(samples.traced).toFixed(1)}; floor ${cpuMedian(samples.floor).toFixed(1)} (DynamoDB client alone), empty module ${cpuMedian(samples.empty).toFixed(1)}`,
    );
    printInitProfile('module init by package, tracing off', profileInit(path, plain, quick ? 2 : 5));
    const startup = summarize(samples.plain.map((s) => s.processCpuMs - s.cpuMs));
    const initFigure = (label: string, values: number[], budgeted: boolean): BenchFigure => {
      const { median, p99 } = summarize(values);
      return {
        name: `bundle module init, fresh node process, ${label} (${runs} runs)`,
        unit: 'ms',
        median: round(median),
        p99: round(p99),
        budget: budgeted ? `< ${INIT_BUDGET_MS} ms` : 'report',
        ok: budgeted ? median < INIT_BUDGET_MS : true,
      };
    };
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
      initFigure(
        'wall, tracing off',
        samples.plain.map((s) => s.ms),
        true,
      ),
      initFigure(
        'wall, tracing on (as in Lambda)',
        samples.traced.map((s) => s.ms),
        true,
      ),
      initFigure(
        'CPU time, tracing off',
        samples.plain.map((s) => s.cpuMs),
        false,
      ),
      initFigure(
        'CPU time, tracing on',
        samples.traced.map((s) => s.cpuMs),
        false,
      ),
      initFigure(
        'CPU time, floor: the DynamoDB client alone, bundled the same way (bench/cold-start-floor.ts)',
        samples.floor.map((s) => s.cpuMs),
        false,
      ),
      initFigure(
        'CPU time, floor: an empty module',
        samples.empty.map((s) => s.cpuMs),
        false,
      ),
      {
        name: `Node start-up before the import, CPU (bootstrap; not in module init) (${runs} runs)`,
        unit: 'ms',
        median: round(startup.median),
        p99: round(startup.p99),
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

/** Runs the pipeline benchmarks (bundle size, cold init, warm latency) and returns their figures. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const quick = opts.quick === true;
  return [...(await bundleFigures(quick)), await warmLatencyFigure(quick)];
}
