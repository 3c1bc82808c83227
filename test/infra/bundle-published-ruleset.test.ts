import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { buildLambdaBundle } from '#infra/constructs/lambda-bundling.js';
import { buildBundle, runColdInvocations, startColdTarget } from '../../bench/cold-invocation.js';

/**
 * The deployed bundle on a world under a published rule set (bench/cold-invocation.ts publishes it through
 * the CLI's publisher into DynamoDB Local, then runs the bundle in a fresh Node process): a revision stored
 * with its document JSON is validated without the YAML parser, so the bundle answers with the YAML chunk
 * removed; a revision stored as text only needs it, and fails without it.
 */
describe('the evaluate-snapshot bundle on a published rule set', () => {
  it('reads a revision stored with its document JSON without the YAML parser', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bundle-published-'));
    const target = await startColdTarget();
    try {
      const bundle = buildBundle(buildLambdaBundle, PROJECT_ROOT, 'functions/evaluate-snapshot.ts', out);
      const yamlChunks = readdirSync(join(bundle.dir, 'chunks')).filter((name) =>
        /^js-yaml-.*\.mjs$/.test(name),
      );
      expect(yamlChunks).toHaveLength(1);
      rmSync(join(bundle.dir, 'chunks', yamlChunks[0]!));
      const arm = (stored: 'document' | 'text') => ({
        key: `published-${stored}`,
        bundle,
        tracing: false,
        invocation: 'silent' as const,
        publishedRuleSet: stored,
      });
      const samples = await runColdInvocations(target, [arm('document')], 1);
      expect(samples.get('published-document')).toHaveLength(1);
      await expect(runColdInvocations(target, [arm('text')], 1)).rejects.toThrow(/js-yaml/);
    } finally {
      await target.stop();
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
