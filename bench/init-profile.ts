import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Where a bundle's module init goes, per package, in time rather than bytes: the bundle is imported in a
 * fresh Node process with the V8 profiler (sampling every 50 µs) started just before the import and stopped
 * just after it, so Node's own start-up, which init does not count, is not in the profile (under
 * `--cpu-prof` it was: ~40% of the samples of a bundle this size). Each sample's position in the bundle
 * is mapped back through the source map to the file it came from, then to its npm package (or to our
 * code). What no source position owns is reported apart: V8 parsing and compiling the bundle, the
 * lazy-init wrappers esbuild puts around CommonJS and dynamically imported modules (whose first call
 * compiles the wrapped module), Node's own module loading, and GC. The profiler slows everything by a
 * similar factor, so the shares matter, not the absolute milliseconds.
 */

/** Self time per bucket, averaged over the runs (ms, as the profiler saw it). */
export interface InitProfile {
  runs: number;
  totalMs: number;
  buckets: { name: string; ms: number }[];
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** The npm package a source path belongs to, or `(our code)`. */
function packageOf(source: string): string {
  // The trimmed copy the Lambda bundles take it from (infra/constructs/xray-sdk-trim.ts).
  if (source.includes('node_modules/.cache/lambda-xray-sdk-core/')) return 'aws-xray-sdk-core';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  return match?.[1] ?? '(our code)';
}

/**
 * Profiles the import of the module at `process.argv[2]` and writes the profile to `process.argv[3]`:
 * the profiler starts after Node's start-up and this script's own loading, and stops when the import
 * settles. With an event file in `process.argv[4]` it profiles the module's first invocation instead:
 * it starts after the import and stops when `handler(event, context)` settles.
 */
const PROFILE_SCRIPT = `import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
const event = process.argv[4] ? JSON.parse(readFileSync(process.argv[4], 'utf8')) : undefined;
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
if (event === undefined) await session.post('Profiler.start');
const mod = await import(process.argv[2]);
if (event !== undefined) {
  const deadline = Date.now() + 30_000;
  const context = { functionName: 'bench', awsRequestId: 'bench-' + process.pid, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', memoryLimitInMB: '512', getRemainingTimeInMillis: () => deadline - Date.now() };
  // As the cold invocation does (bench/cold-invocation-child.mjs): the trace header is set per invocation.
  if (process.env.BENCH_X_AMZN_TRACE_ID) process.env._X_AMZN_TRACE_ID = process.env.BENCH_X_AMZN_TRACE_ID;
  await session.post('Profiler.start');
  await mod.handler(event, context);
}
const { profile } = await session.post('Profiler.stop');
writeFileSync(process.argv[3], JSON.stringify(profile));
process.exit(0);
`;

/** Names what no package owns. */
function unownedBucket(functionName: string, url: string, bundleDirUrl: string): string {
  if (url.startsWith(`${bundleDirUrl}/`))
    return '(esbuild lazy-init wrappers and top level: compiling wrapped modules)';
  if (functionName === 'compileSourceTextModule') return '(V8 parse + compile of the bundle)';
  if (url.includes('internal/deps/undici')) return '(Node fetch: undici)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program: native work outside JavaScript)';
  if (url.startsWith('node:internal/modules/')) return '(Node module loading)';
  // node:internal/streams/readable → streams, node:dgram → dgram, native frames → (Node built-ins).
  const builtin = /^node:(?:internal\/)?([^/]+)/.exec(url)?.[1];
  return builtin ? `(Node built-ins: ${builtin})` : '(Node built-ins)';
}

/**
 * Profiles `runs` fresh imports of the bundle at `bundlePath` (its chunks and source maps beside it), in
 * `env`; with `eventFile` (called once per run: each run's first invocation needs its own event), the
 * first invocation after the import instead.
 */
export function profileInit(
  bundlePath: string,
  env: NodeJS.ProcessEnv,
  runs: number,
  eventFile?: (run: number) => string,
): InitProfile {
  const bundleUrl = pathToFileURL(bundlePath).href;
  // The entry and its chunks (chunks/*.mjs beside it), each with its source map beside it.
  const bundleDirUrl = pathToFileURL(dirname(bundlePath)).href;
  const maps = new Map<string, SourceMap>();
  const mapFor = (url: string): SourceMap | undefined => {
    if (!url.startsWith(`${bundleDirUrl}/`) || !url.endsWith('.mjs')) return undefined;
    if (!existsSync(`${fileURLToPath(url)}.map`)) return undefined;
    let map = maps.get(url);
    if (!map) {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
      maps.set(url, map);
    }
    return map;
  };
  const totals = new Map<string, number>();
  let totalUs = 0;
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(bundlePath, '..', 'cpuprof-'));
    try {
      const script = join(dir, 'profile-import.mjs');
      const out = join(dir, 'import.cpuprofile');
      writeFileSync(script, PROFILE_SCRIPT);
      const args = [script, bundleUrl, out, ...(eventFile ? [eventFile(run)] : [])];
      const child = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (child.status !== 0) throw new Error(`profiled run failed: ${child.stderr.trim()}`);
      if (!existsSync(out)) throw new Error('the profiled run wrote no profile');
      const profile = JSON.parse(readFileSync(out, 'utf8')) as CpuProfile;
      const selfUs = new Map<number, number>();
      for (const [i, id] of profile.samples.entries())
        selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
      for (const node of profile.nodes) {
        const us = selfUs.get(node.id) ?? 0;
        if (us === 0) continue;
        const { functionName, url, lineNumber, columnNumber } = node.callFrame;
        // Waiting (for the loader's file reads) is wall time, not the CPU time init is measured in; the
        // inspector's `dispatch` is the profiler stopping and serializing itself.
        if (functionName === '(idle)' || (functionName === 'dispatch' && url === '')) continue;
        const map = lineNumber >= 0 ? mapFor(url) : undefined;
        const entry = (map ? map.findEntry(lineNumber, columnNumber) : {}) as { originalSource?: string };
        const source = entry.originalSource;
        const bucket = source ? packageOf(source) : unownedBucket(functionName, url, bundleDirUrl);
        totals.set(bucket, (totals.get(bucket) ?? 0) + us);
        totalUs += us;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const buckets = [...totals]
    .map(([name, us]) => ({ name, ms: us / runs / 1000 }))
    .sort((a, b) => b.ms - a.ms);
  return { runs, totalMs: totalUs / runs / 1000, buckets };
}

/** The buckets that grew most from `base` to `other` (ms under the profiler), largest first. */
export function profileGrowth(
  base: InitProfile,
  other: InitProfile,
  count = 5,
): { name: string; ms: number }[] {
  const before = new Map(base.buckets.map((b) => [b.name, b.ms]));
  return other.buckets
    .map((b) => ({ name: b.name, ms: b.ms - (before.get(b.name) ?? 0) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

/** Prints the profile's largest buckets with their share of the total. */
export function printInitProfile(title: string, profile: InitProfile, count = 14): void {
  console.log(
    `  ${title} (${profile.runs} profiled runs, shares of ${profile.totalMs.toFixed(0)} ms under the profiler):`,
  );
  for (const { name, ms } of profile.buckets.slice(0, count))
    console.log(`    ${((100 * ms) / profile.totalMs).toFixed(1).padStart(5)}%  ${name}`);
}
