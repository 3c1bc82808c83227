import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { dynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbRuleSetStore } from '#lib/adapters/dynamodb/ruleset-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { RuleSetPublisher } from '#lib/rulesets/publish.js';
import {
  type BuiltBundle,
  buildBundle,
  type ColdTarget,
  lambdaEnv,
  runColdInvocations,
  startColdTarget,
  writeEvent,
} from '../../bench/cold-invocation.js';

const ENTRY = 'functions/evaluate-snapshot.ts';
const CHILD = join(PROJECT_ROOT, 'bench', 'cold-invocation-child.mjs');

/** Modules only a rule set beyond the default one needs: none may be in a file a cold start loads. */
const ON_DEMAND = [
  'lib/rules/kinds/on-demand.ts',
  'lib/rules/kinds/concentration.ts',
  'lib/rules/kinds/correlation-breakdown.ts',
  'lib/rules/kinds/drawdown.ts',
  'lib/rules/kinds/liquidity.ts',
  'lib/rules/kinds/risk-contribution.ts',
  'lib/rules/kinds/staleness.ts',
  'lib/rules/kinds/volatility-regime.ts',
  'lib/rules/kinds/var-limit-series.ts',
  'lib/rules/shared-measures.ts',
  'lib/rules/market-structure-fast.ts',
  'lib/rules/turbulence-fast.ts',
  'lib/risk/market-structure.ts',
  'lib/risk/series-sizing.ts',
];

/**
 * A rule set with on-demand code only: concentration (fires: 20 strategies at 5% each, limit 4%), a
 * world drawdown, ES by the historical method and a correlation breakdown (measured, whether or not the
 * snapshot's 40 returns allow a value).
 */
const onDemandRuleSet = (world: string) => `world: ${world}
rules:
  - id: max_weight
    kind: concentration
    measure: max_weight
    scope: strategy
    limit: 0.04
    target: 0.035
    action: { type: reduce, sizing: uniform }
  - id: world_drawdown
    kind: drawdown
    limit: 0.9
    action: { type: exit }
  - id: es_historical
    kind: es_limit
    method: historical
    confidence: 0.975
    horizon: 1
    limit: 0.9
  - id: correlation
    kind: correlation_breakdown
    measure: avg_correlation_z
    short_window: 5
    long_window: 30
    limit: 3
    action: { type: exit }
`;

/**
 * The deployed bundle loads the rule kinds the default rule set lacks (and VaR/ES by series methods, and
 * the shared measures) only when a rule set uses one (lib/rules/kinds/index.ts `loadRuleKinds`): built by
 * the construct's own `buildLambdaBundle`, run in fresh Node processes against DynamoDB Local and the local
 * bus (bench/cold-invocation.ts).
 */
describe('the evaluate-snapshot bundle, rule kinds on demand', () => {
  let out: string;
  let target: ColdTarget & { stop(): Promise<void> };
  let bundle: BuiltBundle;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'bundle-lazy-kinds-'));
    target = await startColdTarget();
    bundle = buildBundle(buildLambdaBundle, PROJECT_ROOT, ENTRY, out);
  }, 240_000);

  afterAll(async () => {
    await target?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('keeps every on-demand module out of the files a cold start loads, in one chunk of its own', () => {
    const { outputs } = bundle.metafile;
    const entry = Object.keys(outputs).find((path) => outputs[path]!.entryPoint === ENTRY)!;
    const loaded = new Set<string>();
    const visit = (path: string) => {
      if (loaded.has(path) || !outputs[path]) return;
      loaded.add(path);
      for (const imp of outputs[path]!.imports) if (imp.kind === 'import-statement') visit(imp.path);
    };
    visit(entry);
    const inputsOf = (path: string) => Object.keys(outputs[path]!.inputs);
    const atInit = [...loaded].flatMap(inputsOf);
    for (const module of ON_DEMAND) expect(atInit, module).not.toContain(module);
    const holding = ON_DEMAND.map((module) =>
      Object.keys(outputs).find((path) => path.endsWith('.mjs') && inputsOf(path).includes(module)),
    );
    expect(new Set(holding).size).toBe(1);
    expect(holding[0]).toMatch(/on-demand-[^/]+\.mjs$/);
    // The built-in kinds are in what init loads.
    for (const module of ['lib/rules/kinds/var-limit.ts', 'lib/rules/kinds/stress-drawdown.ts'])
      expect(atInit, module).toContain(module);
  });

  it('answers a default-rule-set snapshot, silent and publishing, with the on-demand chunk deleted', async () => {
    const copy = buildBundle(buildLambdaBundle, PROJECT_ROOT, ENTRY, out);
    const chunks = readdirSync(join(copy.dir, 'chunks')).filter((name) => /^on-demand-.*\.mjs$/.test(name));
    expect(chunks).toHaveLength(1);
    rmSync(join(copy.dir, 'chunks', chunks[0]!));
    const samples = await runColdInvocations(
      target,
      (['silent', 'publishing'] as const).map((invocation) => ({
        key: invocation,
        bundle: copy,
        tracing: false,
        invocation,
      })),
      1,
    );
    expect([...samples.values()].map((s) => s.length)).toEqual([1, 1]);
  }, 300_000);

  it('evaluates a published rule set of on-demand kinds in a cold process, and cannot without the chunk', async () => {
    const publish = async (world: string) => {
      const doc = dynamoDocumentClient({
        region: LOCAL_REGION,
        credentials: () => LOCAL_CREDENTIALS,
        endpoint: target.stack.dynamoEndpoint,
      });
      const store = new DynamoDbRuleSetStore(
        doc,
        target.stack.tables,
        target.stack.config.EXIT_ENGINE_DYNAMODB_TRANSACTIONS,
      );
      const publisher = new RuleSetPublisher({
        store,
        bundled: { exact: () => undefined },
        auditRetentionDays: 1,
      });
      const text = onDemandRuleSet(world);
      await publisher.publish({ world, text, source: `${world}.yaml`, actor: 'test', nowMs: Date.now() });
    };
    const invoke = async (built: BuiltBundle, world: string) => {
      await publish(world);
      // The silent snapshot of the cold-start bench: nothing of the default set would fire on it.
      return coldInvocation(built, writeEvent(out, world, 'silent', 7), lambdaEnv(target, built.dir, false));
    };

    const answered = await invoke(bundle, 'lazy-kinds-world');
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.report).toMatchObject({ outcome: 'published', signals: 20 });
    await target.stack.bus.drain();
    const emitted = target.stack.emitted.filter(
      (e) => (e.detail as { data?: { world_id?: string } }).data?.world_id === 'lazy-kinds-world',
    );
    expect(emitted.length).toBeGreaterThan(0);

    const copy = buildBundle(buildLambdaBundle, PROJECT_ROOT, ENTRY, out);
    const chunk = readdirSync(join(copy.dir, 'chunks')).find((name) => /^on-demand-.*\.mjs$/.test(name))!;
    rmSync(join(copy.dir, 'chunks', chunk));
    const failed = await invoke(copy, 'lazy-kinds-world-2');
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(chunk);
  }, 300_000);
});

/** One fresh Node process: imports the bundle and invokes it once (bench/cold-invocation-child.mjs). */
function coldInvocation(built: BuiltBundle, eventFile: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stderr: string; report: unknown }>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, pathToFileURL(built.path).href, eventFile], {
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let report = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      report += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, report: report ? JSON.parse(report) : null }));
  });
}
