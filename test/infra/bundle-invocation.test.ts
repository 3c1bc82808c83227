import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { TRIMMED_XRAY_DIR, XRAY_STAND_INS } from '#infra/constructs/xray-sdk-trim.js';
import { loadedKb } from '../../bench/bundle-bytes.js';
import {
  type Arm,
  type BuiltBundle,
  buildBundle,
  type ColdTarget,
  runColdInvocations,
  startColdTarget,
} from '../../bench/cold-invocation.js';

const ENTRY = 'functions/evaluate-snapshot.ts';

/**
 * The deployed bundle itself, not the TypeScript it is built from, answering real invocations: built by the
 * construct's own `buildLambdaBundle` (Node's built-ins through its shims, middy's web streams lazy, the
 * Tracer's chunk with aws-xray-sdk-core trimmed), run in fresh Node processes as Lambda runs it, against
 * DynamoDB Local and the local bus (bench/cold-invocation.ts: each process's outcome is checked, and every
 * publishing world's signals must reach the bus). The X-Ray daemon cannot run here: a UDP socket of the test
 * stands in for it.
 */
describe('the evaluate-snapshot bundle', () => {
  let out: string;
  let target: ColdTarget & { stop(): Promise<void> };
  let bundle: BuiltBundle;
  /** The same source with aws-xray-sdk-core as published: the reference the trimmed bundle is compared with. */
  let whole: BuiltBundle;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'bundle-invocation-'));
    target = await startColdTarget();
    bundle = buildBundle(buildLambdaBundle, PROJECT_ROOT, ENTRY, out);
    whole = buildBundle(
      (root, entry, dir) => buildLambdaBundle(root, entry, dir, { xraySdk: 'whole' }),
      PROJECT_ROOT,
      ENTRY,
      out,
    );
  }, 240_000);

  afterAll(async () => {
    await target?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('answers a hub snapshot, silent and publishing, with tracing off and on', async () => {
    const arms: Arm[] = [];
    for (const tracing of [false, true])
      for (const invocation of ['silent', 'publishing'] as const)
        arms.push({ key: `${invocation}-${tracing ? 'traced' : 'plain'}`, bundle, tracing, invocation });
    const samples = await runColdInvocations(target, arms, 1);
    expect([...samples].map(([key, s]) => [key, s.length])).toEqual(arms.map((a) => [a.key, 1]));
    // The traced processes (one priming, one measured, per traced arm) sent their segments.
    expect(target.xraySegments()).toBeGreaterThan(0);
  }, 300_000);

  // Differential: the same source bundled with aws-xray-sdk-core as published is the reference for what the
  // trimmed one sends (infra/constructs/xray-sdk-trim.ts): the same subsegments, with the same names,
  // namespaces, AWS and HTTP attributes, flags and nesting; ids, times and sizes aside.
  it('sends the X-Ray subsegments the bundle with the whole aws-xray-sdk-core sends', async () => {
    const traces = async (built: BuiltBundle, key: string) => {
      await target.takeXrayDocuments();
      const arms = (['silent', 'publishing'] as const).map(
        (invocation): Arm => ({ key: `${key}-${invocation}`, bundle: built, tracing: true, invocation }),
      );
      await runColdInvocations(target, arms, 1);
      return traceTrees(await target.takeXrayDocuments());
    };
    const trimmed = await traces(bundle, 'trimmed');
    const reference = await traces(whole, 'whole');
    // Two processes per arm (one priming, one measured), each its own trace.
    expect(reference).toHaveLength(4);
    expect(reference.every((tree) => tree.includes('"name":"DynamoDB"'))).toBe(true);
    expect(trimmed).toEqual(reference);
  }, 300_000);

  it('holds none of the aws-xray-sdk-core modules it leaves out, nor what only they require', () => {
    const inputs = (built: BuiltBundle) =>
      Object.values(built.metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    const [trimmedInputs, wholeInputs] = [inputs(bundle), inputs(whole)];
    const real = 'node_modules/aws-xray-sdk-core/dist/lib/';
    const copy = `${TRIMMED_XRAY_DIR}/dist/lib/`;
    for (const path of Object.keys(XRAY_STAND_INS)) {
      expect(wholeInputs).toContain(real + path);
      expect(trimmedInputs).toContain(copy + path);
    }
    // The package is read only from the copy, where each of those modules is its stand-in…
    expect(trimmedInputs.filter((input) => input.startsWith(real))).toEqual([]);
    // …and what only the left-out modules required is in no file.
    const onlyTheirs = [
      /\/resources\/aws_whitelist\.json$/,
      /\/patchers\/call_capturer\.js$/,
      /\/middleware\/sampling\//,
      /\/segments\/plugins\/plugin\.js$/,
      /^node_modules\/semver\//,
      /^node_modules\/@smithy\/service-error-classification\//,
      // cls-hooked: its namespace is lib/runtime/cls-namespace.ts in the trimmed bundles.
      /^node_modules\/cls-hooked\//,
      /^node_modules\/emitter-listener\//,
      /^node_modules\/shimmer\//,
    ];
    for (const pattern of onlyTheirs) {
      expect(
        wholeInputs.some((input) => pattern.test(input)),
        String(pattern),
      ).toBe(true);
      expect(trimmedInputs.filter((input) => pattern.test(input))).toEqual([]);
    }
    // What the Tracer's chunk adds to a cold start where tracing is on (bench/bundle-bytes.ts).
    const tracerKb = (built: BuiltBundle) => loadedKb(built.metafile).on - loadedKb(built.metafile).off;
    expect(tracerKb(whole) - tracerKb(bundle)).toBeGreaterThan(30);
  }, 60_000);
});

/** Fields that differ between two runs of the same invocation (or between worlds of different names). */
const VOLATILE = new Set(['id', 'parent_id', 'trace_id', 'start_time', 'end_time', 'content_length']);

/**
 * One canonical text per trace: its subsegments as a tree (streamed ones joined to their parents by
 * `parent_id`, nested ones as sent), each node's fields but the volatile ones, children in sorted order
 * (concurrent calls close in any order). Sorted, so the list compares as a multiset of traces.
 */
function traceTrees(documents: readonly Record<string, unknown>[]): string[] {
  const nodes = new Map<string, { doc: Record<string, unknown>; parent: string; trace: string }>();
  const visit = (doc: Record<string, unknown>, parent: string, trace: string) => {
    const { subsegments, ...rest } = doc;
    nodes.set(String(doc.id), { doc: rest, parent, trace });
    for (const child of (subsegments as Record<string, unknown>[] | undefined) ?? [])
      visit(child, String(doc.id), trace);
  };
  for (const doc of documents) visit(doc, String(doc.parent_id), String(doc.trace_id));
  const canonical = (id: string): string => {
    const { doc } = nodes.get(id)!;
    const children = [...nodes].filter(([, n]) => n.parent === id).map(([childId]) => canonical(childId));
    return JSON.stringify({ ...(strip(doc) as Record<string, unknown>), children: children.sort() });
  };
  const byTrace = new Map<string, string[]>();
  for (const [id, node] of nodes)
    if (!nodes.has(node.parent)) byTrace.set(node.trace, [...(byTrace.get(node.trace) ?? []), canonical(id)]);
  return [...byTrace.values()].map((roots) => `[${roots.sort().join(',')}]`).sort();
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !VOLATILE.has(key))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, inner]) => [key, strip(inner)]),
  );
}
