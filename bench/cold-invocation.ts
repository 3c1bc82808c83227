import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { PutCommand } from '#lib/adapters/dynamodb/client/commands.js';
import { dynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbRuleSetStore, RULESET_PK_PREFIX } from '#lib/adapters/dynamodb/ruleset-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';
import { RuleSetPublisher } from '#lib/rulesets/publish.js';
import { callgrindArgs, nodeBinaryVersion, profileMillions, requireValgrind } from './callgrind.js';
import { alternationOrder, summarize } from './cold-stats.js';
import { calibratedBody, hubSnapshotEntry } from './hub-entries.js';

/**
 * Cold invocations (issue 12 item 5): a fresh Node process per sample imports a function's bundle, as
 * the construct builds it, and answers its first real invocation — a hub snapshot built as upstream
 * builds it — against DynamoDB Local (tables created) and our local EventBridge. Init alone would flatter
 * a function whose AWS calls go over `fetch`: Node loads undici on the first `fetch`, the first signed
 * request builds its signer, so part of the cost moves into the first invocation. Each sample reports
 * init, first invocation and their sum, wall and CPU; arms alternate (bench/cold-stats.ts) so load from
 * other processes falls on all of them alike.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'bench', 'cold-invocation-child.mjs');
const FUNCTION_NAME = 'exit-engine-evaluate-snapshot';
/** 20 strategies, ~22 KB: the world the write-units bench meters. */
const STRATEGIES = Array.from({ length: 20 }, (_, i) => `strategy-${String(i + 1).padStart(2, '0')}`);
/** The default rule set's VaR limit is 0.025: below it nothing fires, above it every strategy is cut. */
const SILENT_VAR = 0.014;
const PUBLISHING_VAR = 0.04;
const WARM_UP_SNAPSHOTS = 30;
const DEFAULT_RULE_SET = readFileSync(join(ROOT, 'rulesets', 'default.yaml'), 'utf8');

/** A function bundled into a folder of its own: `index.mjs`, chunks, rulesets.json. */
export interface BuiltBundle {
  dir: string;
  path: string;
  metafile: Metafile;
}

/** How every Lambda bundle is built: `buildLambdaBundle` of infra/constructs/lambda-bundling.ts. */
export type LambdaBundler = (projectRoot: string, entry: string, outDir: string) => Metafile;

/** Bundles `entry` (relative to `projectRoot`) with that tree's own bundler into a new folder under `parent`. */
export function buildBundle(
  bundler: LambdaBundler,
  projectRoot: string,
  entry: string,
  parent: string,
): BuiltBundle {
  const dir = mkdtempSync(join(parent, 'bundle-'));
  const metafile = bundler(projectRoot, entry, dir);
  return { dir, path: join(dir, 'index.mjs'), metafile };
}

/** What a process is given to do after init. */
export type Invocation = 'silent' | 'publishing' | 'floor' | 'none';

/** One arm: a bundle, tracing off or on, and what its first invocation is. */
export interface Arm {
  key: string;
  bundle: BuiltBundle | 'empty';
  tracing: boolean;
  invocation: Invocation;
  /**
   * Import into the process Lambda's runtime hands a function (http loaded, an Agent built:
   * bench/cold-invocation-child.mjs) rather than into a bare fresh Node process.
   */
  afterLambdaRuntime?: boolean;
  /**
   * The world runs on a rule set published for it (rather than the bundled default): stored with its
   * document as JSON, as a publish writes it since round 7, or as text only (a revision published before).
   */
  publishedRuleSet?: 'document' | 'text';
}

/** What one fresh process measured (ms). */
export interface ColdSample {
  startupCpuMs: number;
  initMs: number;
  initCpuMs: number;
  invokeMs: number;
  invokeCpuMs: number;
  totalMs: number;
  totalCpuMs: number;
  /** Spawn to exit, as the parent saw it: Node's start-up, init, the invocation and exit. */
  processMs: number;
  /** With `useInstructionCounting()`: millions of instructions the whole process executed (callgrind). */
  instructions?: number;
}

/** The local services the processes talk to, and the X-Ray sink traced processes send segments to. */
export interface ColdTarget {
  stack: LocalStack;
  xrayAddress: string;
  xraySegments(): number;
  /**
   * The X-Ray documents received since the last call (each UDP message's JSON after its protocol header),
   * every one sent so far included: a marker sent to the sink after them arrives last.
   */
  takeXrayDocuments(): Promise<Record<string, unknown>[]>;
}

/** Starts DynamoDB Local with fresh tables, the local bus, and a UDP sink standing in for the X-Ray daemon. */
export async function startColdTarget(): Promise<ColdTarget & { stop(): Promise<void> }> {
  const stack = await startLocalStack({ tablePrefix: `cold-${process.pid}-`, recentLimit: 100_000 });
  // DynamoDB Local's JIT warms up on its first few hundred calls: without this the first rounds' first
  // invocations would be slower than the last ones' for the JVM's sake, not the function's. The same
  // snapshots, through the same handler code in this process.
  for (let i = 0; i < WARM_UP_SNAPSHOTS; i++) {
    const varLevel = i % 2 === 0 ? SILENT_VAR : PUBLISHING_VAR;
    stack.bus.publishLocal([
      hubSnapshotEntry(`warm-up-${i}`, 'v1', Date.now() - 5_000, calibratedBody(STRATEGIES, varLevel, i)),
    ]);
    await stack.bus.drain();
  }
  // The X-Ray daemon cannot run here; traced processes send their UDP segments to this socket instead.
  const sink = createSocket('udp4');
  let segments = 0;
  let messages: string[] = [];
  const markers = new Map<string, () => void>();
  sink.on('message', (message) => {
    const text = message.toString('utf8');
    const marker = markers.get(text);
    if (marker) return marker();
    segments++;
    messages.push(text);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.bind(0, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return {
    stack,
    xrayAddress: `127.0.0.1:${sink.address().port}`,
    xraySegments: () => segments,
    async takeXrayDocuments() {
      // Datagrams on the loopback arrive in the order sent: once the marker is in, so is everything before it.
      const marker = `marker-${randomUUID()}`;
      const arrived = new Promise<void>((resolve) => markers.set(marker, resolve));
      sink.send(marker, sink.address().port, '127.0.0.1');
      await arrived;
      markers.delete(marker);
      const taken = messages;
      messages = [];
      return taken.map((text) => JSON.parse(text.slice(text.indexOf('\n') + 1)) as Record<string, unknown>);
    },
    async stop() {
      sink.close();
      await stack.stop();
    },
  };
}

/**
 * The environment Lambda gives the function (as the construct configures it), pointed at the local
 * services. Tracing on adds what Active tracing adds: `AWS_EXECUTION_ENV` (the function loads the Tracer)
 * and, per invocation, a sampled trace header.
 */
export function lambdaEnv(target: ColdTarget, bundleDir: string, tracing: boolean): NodeJS.ProcessEnv {
  const { stack } = target;
  return {
    PATH: process.env.PATH,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    LAMBDA_TASK_ROOT: bundleDir,
    POWERTOOLS_SERVICE_NAME: 'exit-engine',
    POWERTOOLS_METRICS_NAMESPACE: 'ExitEngine',
    POWERTOOLS_TRACE_ENABLED: 'true',
    RULESETS_PATH: join(bundleDir, COMPILED_RULESETS_FILE),
    SIGNALS_TABLE_NAME: stack.tables.signals,
    STATE_TABLE_NAME: stack.tables.state,
    AUDIT_TABLE_NAME: stack.tables.audit,
    EVENT_BUS_NAME: LOCAL_BUS_NAME,
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    EVENTBRIDGE_ENDPOINT: stack.busEndpoint,
    EXIT_ENGINE_DYNAMODB_TRANSACTIONS: String(stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS),
    AWS_XRAY_DAEMON_ADDRESS: target.xrayAddress,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(tracing
      ? {
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          BENCH_X_AMZN_TRACE_ID: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Parent=${randomUUID().replaceAll('-', '').slice(0, 16)};Sampled=1`,
        }
      : {}),
  };
}

/** The EventBridge event a hub snapshot of a new world arrives as (what the local bus delivers). */
export function snapshotEvent(world: string, varLevel: number, seed: number, nowMs: number) {
  const entry = hubSnapshotEntry(world, 'v1', nowMs - 5_000, calibratedBody(STRATEGIES, varLevel, seed));
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '000000000000',
    time: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [],
    detail: JSON.parse(entry.Detail!) as unknown,
  };
}

/**
 * Publishes the bundled default, declared for `world`, through the publisher the CLI uses; `text` then
 * rewrites the current revision without its document JSON, as a revision published before round 7 is.
 */
async function publishRuleSet(target: ColdTarget, world: string, stored: 'document' | 'text'): Promise<void> {
  const { stack } = target;
  const doc = dynamoDocumentClient({
    region: LOCAL_REGION,
    credentials: () => LOCAL_CREDENTIALS,
    endpoint: stack.dynamoEndpoint,
  });
  const store = new DynamoDbRuleSetStore(doc, stack.tables, stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS);
  const publisher = new RuleSetPublisher({
    store,
    bundled: { exact: () => undefined },
    auditRetentionDays: 1,
  });
  const text = DEFAULT_RULE_SET.replace('world: default', `world: ${world}`);
  await publisher.publish({ world, text, source: `${world}.yaml`, actor: 'bench', nowMs: Date.now() });
  const current = await store.current(world);
  if (current?.document_json === undefined) throw new Error(`${world}: the publish stored no document JSON`);
  if (stored === 'text') {
    const { document_json: _, ...revision } = current;
    await doc.send(
      new PutCommand({
        TableName: stack.tables.state,
        Item: { pk: `${RULESET_PK_PREFIX}${world}`, sk: 'CURRENT', ...revision },
      }),
    );
  }
}

/** Writes the event of a first invocation of `world` into `dir` and returns its path. */
export function writeEvent(
  dir: string,
  world: string,
  invocation: Exclude<Invocation, 'none'>,
  seed: number,
): string {
  const path = join(dir, `${world}.json`);
  const event =
    invocation === 'floor'
      ? {}
      : snapshotEvent(world, invocation === 'silent' ? SILENT_VAR : PUBLISHING_VAR, seed, Date.now());
  writeFileSync(path, JSON.stringify(event));
  return path;
}

interface ChildReport {
  startupCpuMs: number;
  initMs: number;
  initCpuMs: number;
  invokeMs: number;
  invokeCpuMs: number;
  outcome: string | null;
  signals: number | null;
}

let childNode = process.execPath;
let countInstructions = false;

/**
 * Runs each fresh process under valgrind's callgrind and records the instructions it executed, start to
 * exit, threads included (`bench/cold-start.ts --instructions`). A count does not move with the machine's
 * load as CPU time does, so a change of a few percent shows; the times measured meanwhile are valgrind's
 * (~20-50x slower) and mean nothing. Refuses where valgrind is not on the PATH.
 */
export function useInstructionCounting(): void {
  requireValgrind();
  countInstructions = true;
}

/**
 * Runs the fresh processes on the Node binary at `path` instead of this one (`bench/cold-start.ts --node`):
 * Lambda's runtime is Node.js 22, and a machine may have another version installed. Returns its version;
 * refuses a path that is not a Node binary that runs.
 */
export function useChildNode(path: string): string {
  const version = nodeBinaryVersion(path);
  childNode = path;
  return version;
}

/** One fresh process: imports `bundleUrl`, invokes it with the event in `eventFile` (`-`: none). */
function runChild(bundleUrl: string, eventFile: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ report: ChildReport; processMs: number; instructions?: number }>((resolve, reject) => {
    const start = performance.now();
    const scratch = `${eventFile === '-' ? tmpdir() : dirname(eventFile)}/valgrind-${randomUUID()}`;
    const [valgrindLog, profile] = [`${scratch}.log`, `${scratch}.callgrind`];
    const [command, args] = countInstructions
      ? [
          'valgrind',
          [...callgrindArgs(profile), `--log-file=${valgrindLog}`, childNode, CHILD, bundleUrl, eventFile],
        ]
      : [childNode, [CHILD, bundleUrl, eventFile]];
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let report = '';
    let err = '';
    child.stdout!.resume();
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-4000);
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      report += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = performance.now() - start;
      let instructions: number | undefined;
      if (countInstructions) {
        instructions = existsSync(profile) ? profileMillions(readFileSync(profile, 'utf8')) : undefined;
        rmSync(valgrindLog, { force: true });
        rmSync(profile, { force: true });
        if (instructions === undefined)
          return reject(new Error(`valgrind counted nothing (exit ${code}): ${err.trim()}`));
      }
      if (code !== 0) return reject(new Error(`cold invocation failed (exit ${code}): ${err.trim()}`));
      try {
        resolve({
          report: JSON.parse(report) as ChildReport,
          processMs,
          ...(instructions === undefined ? {} : { instructions }),
        });
      } catch {
        reject(new Error(`cold invocation reported nothing: ${err.trim()}`));
      }
    });
  });
}

/** Checks that the process did what its arm says: a silent or publishing evaluation, a floor's call. */
function checkOutcome(arm: Arm, report: ChildReport): void {
  const wanted =
    arm.invocation === 'silent'
      ? report.outcome === 'no_signal'
      : arm.invocation === 'publishing'
        ? report.outcome === 'published' && report.signals === STRATEGIES.length
        : report.outcome === null;
  if (!wanted)
    throw new Error(
      `${arm.key}: the first invocation answered ${JSON.stringify({ outcome: report.outcome, signals: report.signals })}, not a ${arm.invocation} one`,
    );
}

/**
 * Runs `rounds` rounds of the arms, alternating, each sample a fresh process. One unmeasured process per
 * bundle first primes the OS file cache, as a warm Lambda host would have it. Every publishing world's
 * signals are checked on the bus afterwards.
 */
export async function runColdInvocations(
  target: ColdTarget,
  arms: readonly Arm[],
  rounds: number,
  onProgress?: (done: number, all: number) => void,
): Promise<Map<string, ColdSample[]>> {
  const work = mkdtempSync(join(tmpdir(), 'exit-engine-cold-'));
  const samples = new Map<string, ColdSample[]>(arms.map((a) => [a.key, []]));
  const publishingWorlds: string[] = [];
  let seed = 1;
  const once = async (arm: Arm, world: string) => {
    const bundleUrl =
      arm.bundle === 'empty' ? 'data:text/javascript,export{}' : pathToFileURL(arm.bundle.path).href;
    const bundleDir = arm.bundle === 'empty' ? work : arm.bundle.dir;
    const eventFile = arm.invocation === 'none' ? '-' : writeEvent(work, world, arm.invocation, seed++);
    if (arm.publishedRuleSet) await publishRuleSet(target, world, arm.publishedRuleSet);
    const { report, processMs, instructions } = await runChild(bundleUrl, eventFile, {
      ...lambdaEnv(target, bundleDir, arm.tracing),
      ...(arm.afterLambdaRuntime ? { BENCH_AFTER_LAMBDA_RUNTIME: '1' } : {}),
    });
    checkOutcome(arm, report);
    if (arm.invocation === 'publishing') publishingWorlds.push(world);
    return { report, processMs, instructions };
  };
  try {
    for (const arm of arms) await once(arm, `cold-prime-${arm.key}`);
    const order = alternationOrder(arms, rounds);
    for (const [i, { round, arm }] of order.entries()) {
      const { report, processMs, instructions } = await once(arm, `cold-${arm.key}-${round}`);
      samples.get(arm.key)!.push({
        startupCpuMs: report.startupCpuMs,
        initMs: report.initMs,
        initCpuMs: report.initCpuMs,
        invokeMs: report.invokeMs,
        invokeCpuMs: report.invokeCpuMs,
        totalMs: report.initMs + report.invokeMs,
        totalCpuMs: report.initCpuMs + report.invokeCpuMs,
        processMs,
        ...(instructions === undefined ? {} : { instructions }),
      });
      onProgress?.(i + 1, order.length);
    }
    await target.stack.bus.drain();
    const emitted = new Set(
      target.stack.emitted.map((e) => (e.detail as { data?: { world_id?: string } }).data?.world_id),
    );
    const unseen = publishingWorlds.filter((w) => !emitted.has(w));
    if (unseen.length > 0)
      throw new Error(`no exit_signal_emitted reached the bus for ${unseen.length} publishing invocation(s)`);
    return samples;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One row of a printed table: medians and p90 of init, first invocation and their sum. */
export function sampleRow(samples: readonly ColdSample[]): string {
  const f = (xs: number[]) => {
    const s = summarize(xs);
    return `${s.median.toFixed(0).padStart(4)} ${`(${s.p90.toFixed(0)})`.padEnd(6)}`;
  };
  return [
    f(samples.map((s) => s.initCpuMs)),
    f(samples.map((s) => s.invokeCpuMs)),
    f(samples.map((s) => s.totalCpuMs)),
    f(samples.map((s) => s.totalMs)),
  ].join('  ');
}

export const SAMPLE_HEADER = `${'init CPU'.padEnd(11)}  ${'1st call CPU'.padEnd(11)}  ${'sum CPU'.padEnd(11)}  ${'sum wall'.padEnd(11)}   (ms: median (p90))`;
