import './quiet-powertools.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { didYouMean, numberFlag, parseFlags, UsageError } from '#lib/cli/args.js';
import { loadedKb } from './bundle-bytes.js';
import {
  type Arm,
  type BuiltBundle,
  buildBundle,
  type ColdSample,
  type LambdaBundler,
  lambdaEnv,
  runColdInvocations,
  SAMPLE_HEADER,
  sampleRow,
  startColdTarget,
  useChildNode,
  useInstructionCounting,
  writeEvent,
} from './cold-invocation.js';
import { type Comparison, compare } from './cold-stats.js';
import { type InitProfile, printInitProfile, profileGrowth, profileInit } from './init-profile.js';
import { withRevisionTree } from './revision-tree.js';

/**
 * Cold-start figures of the snapshot function (issue 12 item 5), two ways:
 *
 * - `measureColdStart({ rounds })`: this tree's function, a silent and a publishing first invocation,
 *   tracing off and on, beside the floors — one GetItem through aws-json bundled the same way (init +
 *   first call), the DynamoDB SDK client doing one GetItem, and Node's start-up with an empty module — and
 *   the same GetItem sent with `fetch`, to show what `fetch` would cost a first call.
 * - `--base REV`: REV's function, bundled by REV's own `buildLambdaBundle`, against this tree's,
 *   alternating fresh processes in one run, with the ratio. `npx tsx bench/cold-start.ts --base 31dd6a5`.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'functions/evaluate-snapshot.ts';
const AWS_JSON_FLOOR = 'bench/cold-start-floor-aws-json.ts';
const FETCH_COMPARISON = 'bench/cold-start-floor-fetch.ts';
const SDK_FLOOR = 'bench/cold-start-floor.ts';

/** The snapshot function's four cold invocations: silent / publishing, tracing off / on. */
function snapshotArms(prefix: string, bundle: BuiltBundle | 'empty'): Arm[] {
  return (['silent', 'publishing'] as const).flatMap((invocation) =>
    [false, true].map((tracing) => ({
      key: `${prefix}${invocation}-${tracing ? 'on' : 'off'}`,
      bundle,
      tracing,
      invocation,
    })),
  );
}

const ARM_LABELS: Record<string, string> = {
  'silent-off': 'evaluate-snapshot, silent, tracing off',
  'published-document-off': 'evaluate-snapshot, silent, tracing off, published rule set (document)',
  'published-text-off': 'evaluate-snapshot, silent, tracing off, published rule set (text only)',
  'runtime-silent-off': 'evaluate-snapshot, silent, tracing off, after Lambda runtime start-up',
  'runtime-silent-on': 'evaluate-snapshot, silent, tracing on, after Lambda runtime start-up',
  'silent-on': 'evaluate-snapshot, silent, tracing on (as in Lambda)',
  'publishing-off': 'evaluate-snapshot, publishing 20 signals, tracing off',
  'publishing-on': 'evaluate-snapshot, publishing 20 signals, tracing on (as in Lambda)',
  'aws-json-floor': 'floor: one GetItem through aws-json, bundled the same way',
  'fetch-comparison': 'comparison: the same signed GetItem over fetch',
  'sdk-floor': 'floor: DynamoDB SDK client, one GetItem, bundled the same way',
  empty: 'Node start-up: an empty module, no call',
};

/**
 * The SDK floor, while the DynamoDB SDK packages are installed: once no function carries the SDK the
 * project may drop them, and the floor goes with them rather than failing the run.
 */
function sdkFloor(dir: string): Arm[] {
  try {
    const bundle = buildBundle(buildLambdaBundle, ROOT, SDK_FLOOR, dir);
    return [{ key: 'sdk-floor', bundle, tracing: false, invocation: 'floor' }];
  } catch (error) {
    console.log(
      `  note: the SDK floor (${SDK_FLOOR}) is left out: ${(error as Error).message.split('\n')[0]}`,
    );
    return [];
  }
}

/** What `measureColdStart` measured: samples per arm, and the conditions. */
export interface ColdStartRun {
  rounds: number;
  samples: Map<string, ColdSample[]>;
  dynamoKind: string;
  xraySegments: number;
  /** 1-minute load average before and after the run. */
  load: [number, number];
  /** Where the silent first invocation's CPU goes, by package, tracing off and on. */
  firstCallProfile?: { off: InitProfile; on: InitProfile };
}

function progress(done: number, all: number): void {
  if (process.stdout.isTTY) process.stdout.write(`\r  ${done}/${all} fresh processes`);
  if (done === all && process.stdout.isTTY) process.stdout.write('\r');
}

/** This tree's cold invocations and the floors, alternating over `rounds` rounds. */
export async function measureColdStart(opts: {
  rounds: number;
  profileRuns?: number;
}): Promise<ColdStartRun> {
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-cold-start-'));
  const target = await startColdTarget().catch((error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const load0 = loadavg()[0]!;
    const fn = buildBundle(buildLambdaBundle, ROOT, ENTRY, dir);
    const arms: Arm[] = [
      ...snapshotArms('', fn),
      // A world under a rule set published for it: its first invocation loads the rule-set schema, and the
      // YAML parser only for a revision stored without its document JSON (before round 7).
      ...(['document', 'text'] as const).map((stored) => ({
        key: `published-${stored}-off`,
        bundle: fn,
        tracing: false,
        invocation: 'silent' as const,
        publishedRuleSet: stored,
      })),
      // The silent pair again, imported where Lambda's runtime has already loaded http (context, not the budget).
      ...[false, true].map((tracing) => ({
        key: `runtime-silent-${tracing ? 'on' : 'off'}`,
        bundle: fn,
        tracing,
        invocation: 'silent' as const,
        afterLambdaRuntime: true,
      })),
      {
        key: 'aws-json-floor',
        bundle: buildBundle(buildLambdaBundle, ROOT, AWS_JSON_FLOOR, dir),
        tracing: false,
        invocation: 'floor',
      },
      {
        key: 'fetch-comparison',
        bundle: buildBundle(buildLambdaBundle, ROOT, FETCH_COMPARISON, dir),
        tracing: false,
        invocation: 'floor',
      },
      ...sdkFloor(dir),
      { key: 'empty', bundle: 'empty', tracing: false, invocation: 'none' },
    ];
    const samples = await runColdInvocations(target, arms, opts.rounds, progress);
    const profileRuns = opts.profileRuns ?? 0;
    const profile = (tracing: boolean) =>
      profileInit(fn.path, lambdaEnv(target, fn.dir, tracing), profileRuns, (run) =>
        writeEvent(dir, `cold-profile-${tracing ? 'on' : 'off'}-${run}`, 'silent', 10_000 + run),
      );
    const firstCallProfile = profileRuns > 0 ? { off: profile(false), on: profile(true) } : undefined;
    return {
      rounds: opts.rounds,
      samples,
      ...(firstCallProfile ? { firstCallProfile } : {}),
      dynamoKind: target.stack.dynamoKind,
      xraySegments: target.xraySegments(),
      load: [load0, loadavg()[0]!],
    };
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints one line per arm: init, first call, their sum (CPU and wall), median and p90. */
export function printColdStart(run: ColdStartRun): void {
  console.log(
    `\ncold invocations: fresh Node process, import + first invocation (${run.rounds} alternating rounds, ${run.dynamoKind} + local bus, load ${run.load[0].toFixed(1)} → ${run.load[1].toFixed(1)})`,
  );
  console.log(`  ${''.padEnd(70)}${SAMPLE_HEADER}`);
  for (const [key, list] of run.samples)
    console.log(`  ${(ARM_LABELS[key] ?? key).padEnd(70)}${sampleRow(list)}`);
  const empty = run.samples.get('empty');
  if (empty) {
    const startup = empty.map((s) => s.startupCpuMs).sort((a, b) => a - b);
    const wall = empty.map((s) => s.processMs).sort((a, b) => a - b);
    console.log(
      `  Node start-up before any import: ${startup[Math.floor((startup.length - 1) / 2)]!.toFixed(0)} ms CPU; an empty process spawn to exit ${wall[Math.floor((wall.length - 1) / 2)]!.toFixed(0)} ms wall (medians)`,
    );
  }
  console.log(`  X-Ray segments sent by traced processes: ${run.xraySegments}`);
  if (run.firstCallProfile) {
    const { off, on } = run.firstCallProfile;
    printInitProfile('first invocation by package, silent, tracing off', off, 10);
    console.log(
      `  tracing on adds, first invocation (${on.totalMs.toFixed(0)} ms under the profiler against ${off.totalMs.toFixed(0)}), most to: ${profileGrowth(
        off,
        on,
      )
        .map((b) => `${b.name} +${b.ms.toFixed(0)} ms`)
        .join(', ')}`,
    );
  }
}

/** The figures of a before/after run, per snapshot arm and measure. */
export interface BeforeAfter {
  base: string;
  rounds: number;
  rows: { arm: string; measure: string; comparison: Comparison }[];
  load: [number, number];
  /** KB loaded at init, tracing off and on. */
  kb: { before: { off: number; on: number }; after: { off: number; on: number } };
}

type Measures = [string, (s: ColdSample) => number][];

const MEASURES: Measures = [
  ['init CPU', (s) => s.initCpuMs],
  ['first invocation CPU', (s) => s.invokeCpuMs],
  ['init + first invocation CPU', (s) => s.totalCpuMs],
  ['init + first invocation wall', (s) => s.totalMs],
];

/** With `--instructions`: the whole process's instructions, M (start-up, init, first invocation, exit). */
const INSTRUCTION_MEASURES: Measures = [['process instructions', (s) => s.instructions ?? Number.NaN]];

/** Whether two trees name the same packages (the --base tree is bundled with this tree's node_modules). */
function samePackages(a: string, b: string): boolean {
  const read = (dir: string, file: string) => {
    const path = join(dir, file);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };
  return ['package.json', 'package-lock.json'].every((file) => read(a, file) === read(b, file));
}

/** REV's snapshot function against this tree's, alternating fresh processes over `rounds` rounds. */
export async function measureBeforeAfter(opts: {
  base: string;
  rounds: number;
  instructions?: boolean;
}): Promise<BeforeAfter> {
  const measures = opts.instructions ? INSTRUCTION_MEASURES : MEASURES;
  return withRevisionTree(ROOT, opts.base, async (tree) => {
    const dir = mkdtempSync(join(tmpdir(), 'exit-engine-cold-start-'));
    try {
      // The revision's own bundling, as its construct built its asset.
      const baseBundler = (
        (await import(pathToFileURL(join(tree.dir, 'infra/constructs/lambda-bundling.ts')).href)) as {
          buildLambdaBundle?: LambdaBundler;
        }
      ).buildLambdaBundle;
      if (typeof baseBundler !== 'function')
        throw new UsageError(
          `--base ${opts.base}: its infra/constructs/lambda-bundling.ts has no buildLambdaBundle`,
        );
      if (!samePackages(tree.dir, ROOT))
        console.log(
          `  note: ${opts.base}'s package.json or package-lock.json differs from this tree's; its bundle is built with this tree's node_modules`,
        );
      const before = buildBundle(baseBundler, tree.dir, ENTRY, dir);
      const after = buildBundle(buildLambdaBundle, ROOT, ENTRY, dir);
      const target = await startColdTarget();
      try {
        const load0 = loadavg()[0]!;
        const arms = [...snapshotArms('before:', before), ...snapshotArms('after:', after)];
        const samples = await runColdInvocations(target, arms, opts.rounds, progress);
        const rows = snapshotArms('', after).flatMap(({ key }) =>
          measures.map(([measure, pick]) => ({
            arm: key,
            measure,
            comparison: compare(
              samples.get(`before:${key}`)!.map(pick),
              samples.get(`after:${key}`)!.map(pick),
            ),
          })),
        );
        return {
          base: tree.commit.slice(0, 12),
          rounds: opts.rounds,
          rows,
          load: [load0, loadavg()[0]!],
          kb: { before: loadedKb(before.metafile), after: loadedKb(after.metafile) },
        };
      } finally {
        await target.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export function printBeforeAfter(r: BeforeAfter): void {
  console.log(
    `\nbefore/after: ${r.base} (before) → this tree (after), ${r.rounds} alternating rounds of fresh processes, load ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)}`,
  );
  const { before: kb0, after: kb1 } = r.kb;
  console.log(
    `  JavaScript loaded at init, KB, tracing off / on: ${kb0.off.toFixed(0)} / ${kb0.on.toFixed(0)} → ${kb1.off.toFixed(0)} / ${kb1.on.toFixed(0)}`,
  );
  const instructions = r.rows.some((row) => row.measure === INSTRUCTION_MEASURES[0]![0]);
  const measures = instructions ? INSTRUCTION_MEASURES : MEASURES;
  const paired = instructions ? INSTRUCTION_MEASURES[0]![0] : 'init + first invocation CPU';
  console.log(
    instructions
      ? '  (millions of instructions of the whole process, start-up to exit, under callgrind: medians before → after,'
      : '  (ms, medians before → after, × = after / before; the last column: the median of the per-round',
  );
  console.log(
    instructions
      ? '  × = after / before; the last column: the median of the per-round ratios, and in how many rounds after was lower)'
      : '  ratios of init + first invocation CPU, and in how many rounds after was lower)',
  );
  const width = instructions ? 28 : 20;
  console.log(
    `  ${''.padEnd(50)}${measures.map(([m]) => m.replace('init + first invocation', 'init+1st').replace('first invocation', '1st call').padEnd(width)).join('')}paired ×, after lower`,
  );
  for (const { key } of snapshotArms('', 'empty')) {
    const cells = r.rows.filter((row) => row.arm === key);
    const cell = ({ comparison: c }: (typeof cells)[number]) =>
      `${c.before.median.toFixed(0)} → ${c.after.median.toFixed(0)} ×${c.ratio.toFixed(3)}`.padEnd(width);
    const sum = cells.find((row) => row.measure === paired)!.comparison;
    console.log(
      `  ${(ARM_LABELS[key] ?? key).replace('evaluate-snapshot, ', '').padEnd(50)}${cells.map(cell).join('')}×${sum.pairedRatio.toFixed(2)}, ${sum.afterLower}/${sum.before.n}`,
    );
  }
}

const USAGE = `usage: npx tsx bench/cold-start.ts [--base REV] [--rounds N] [--node PATH] [--instructions] [--quick]
  no --base   this tree's snapshot function (silent and publishing, tracing off and on) and the floors
  --base REV  REV's snapshot function (bundled by REV's own construct code) against this tree's
  --rounds N  fresh processes per arm (default 21; --quick 5)
  --node PATH run the fresh processes on this Node binary (e.g. a Node.js 22 like Lambda's) instead of this one
  --instructions  with --base: count each process's instructions under valgrind (load-independent; default 3 rounds)`;

/** The command line: `npx tsx bench/cold-start.ts [--base REV] [--rounds N] [--quick]`. */
export async function main(argv: string[]): Promise<number> {
  const flags = {
    base: { type: 'string' },
    rounds: { type: 'string' },
    node: { type: 'string' },
    instructions: { type: 'boolean' },
    quick: { type: 'boolean' },
    help: { type: 'boolean' },
  } as const;
  let values: ReturnType<typeof parseFlags<typeof flags>>['values'];
  try {
    ({ values } = parseFlags(argv, flags));
  } catch (error) {
    const unknown = /Unknown option '-{1,2}([^']+)'/.exec((error as Error).message)?.[1];
    if (unknown === undefined) throw error;
    throw new UsageError(`${(error as Error).message}${didYouMean(unknown, Object.keys(flags))}`, {
      cause: error,
    });
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rounds = numberFlag('rounds', values.rounds, values.instructions ? 3 : values.quick ? 5 : 21, {
    min: 1,
    integer: true,
  });
  if (values.instructions && values.base === undefined)
    throw new UsageError('--instructions compares two trees: give --base REV');
  const node = values.node === undefined ? process.version : useChildNode(values.node);
  if (values.instructions) useInstructionCounting();
  console.log(`fresh processes run on Node ${node}`);
  if (values.base !== undefined)
    printBeforeAfter(
      await measureBeforeAfter({ base: values.base, rounds, instructions: values.instructions === true }),
    );
  else printColdStart(await measureColdStart({ rounds, profileRuns: values.quick ? 1 : 3 }));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError || (error as Error).name === 'RevisionTreeError')) throw error;
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  }
}
