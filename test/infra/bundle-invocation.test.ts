import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { type Arm, buildBundle, runColdInvocations, startColdTarget } from '../../bench/cold-invocation.js';

/**
 * The deployed bundle itself, not the TypeScript it is built from, answering real invocations: built by the
 * construct's own `buildLambdaBundle` (Node's built-ins through its shims, middy's web streams lazy, the
 * Tracer's chunk), run in fresh Node processes as Lambda runs it, against DynamoDB Local and the local bus
 * (bench/cold-invocation.ts: each process's outcome is checked, and every publishing world's signals must
 * reach the bus). The X-Ray daemon cannot run here: a UDP socket of the test stands in for it.
 */
describe('the evaluate-snapshot bundle', () => {
  it('answers a hub snapshot, silent and publishing, with tracing off and on', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bundle-invocation-'));
    const target = await startColdTarget();
    try {
      const bundle = buildBundle(buildLambdaBundle, PROJECT_ROOT, 'functions/evaluate-snapshot.ts', out);
      const arms: Arm[] = [];
      for (const tracing of [false, true])
        for (const invocation of ['silent', 'publishing'] as const)
          arms.push({ key: `${invocation}-${tracing ? 'traced' : 'plain'}`, bundle, tracing, invocation });
      const samples = await runColdInvocations(target, arms, 1);
      expect([...samples].map(([key, s]) => [key, s.length])).toEqual(arms.map((a) => [a.key, 1]));
      // The traced processes (one priming, one measured, per traced arm) sent their segments.
      expect(target.xraySegments()).toBeGreaterThan(0);
    } finally {
      await target.stop();
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
