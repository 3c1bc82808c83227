import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { ruleSetVersion } from '#lib/rules/ruleset-loader.js';
import { usePipeline } from './support/pipeline.js';
import { putEntry } from './support/snapshots.js';

/**
 * `rules publish` against a running local runtime: the CLI finds it by its endpoints file, writes the
 * store in its DynamoDB Local, and the runtime's next evaluation (after its 1 s cache) runs under the
 * published set, the signal carrying that version. Real DynamoDB Local, bus and handler throughout.
 */
const BUNDLED = readFileSync('rulesets/default.yaml', 'utf8');
/** The default set for one world, with the VaR limit loosened from 2.5% to 3%. */
const LOOSER = BUNDLED.replace('world: default', 'world: w-pub').replace('limit: 0.025', 'limit: 0.03');

async function runCli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('rules publish to the local runtime', () => {
  let dir: string;
  let endpoints: string;
  let file: string;
  const p = usePipeline({ name: 'rules' });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rules-publish-'));
    endpoints = join(dir, 'endpoints.json');
    await writeFile(endpoints, JSON.stringify({ ...p.stack.env, pid: process.pid }));
    file = join(dir, 'w-pub.yaml');
    await writeFile(file, LOOSER);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const put = async (version: string, varLevel: number) => {
    const now = Date.now();
    const entry = putEntry(
      { world: 'w-pub', version, asOf: new Date(now - 10_000).toISOString(), varLevel },
      LOCAL_BUS_NAME,
    );
    expect((await p.send(entry)).FailedEntryCount).toBe(0);
  };
  const emitted = () => p.emitted('w-pub');

  it('a breach under the bundled default; after the publish the same level passes, evaluated under the new version', async () => {
    await put('v1', 0.028);
    expect(emitted()).toHaveLength(1);
    expect(emitted()[0]!.data.provenance).toMatchObject({ ruleset_version: ruleSetVersion(BUNDLED) });

    const bad = await runCli(['rules', 'publish', file, '--world', 'w-other', '--endpoints', endpoints]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--world: w-pub\.yaml declares world 'w-pub', not 'w-other'/);

    const r = await runCli([
      'rules',
      'publish',
      file,
      '--world',
      'w-pub',
      '--reason',
      'desk',
      '--endpoints',
      endpoints,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`published ${ruleSetVersion(LOOSER)} as revision 1 of 'w-pub'`);

    // The runtime's cache is 1 s: past it, the next snapshot meets the published set.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await put('v2', 0.028);
    const audit = await runCli(['audit', '--world', 'w-pub', '--json', '--endpoints', endpoints]);
    expect(audit.code, audit.err).toBe(0);
    const records = JSON.parse(audit.out) as Array<Record<string, unknown>>;
    const evaluations = records.filter((a) => a.kind === 'evaluation');
    expect(evaluations.map((a) => a.ruleset_version)).toEqual(
      expect.arrayContaining([ruleSetVersion(BUNDLED), ruleSetVersion(LOOSER)]),
    );
    const publish = records.find((a) => a.action === 'ruleset_publish');
    expect(publish).toMatchObject({
      reason: 'desk',
      before: null,
      after: { version: ruleSetVersion(LOOSER), revision: 1, source: 'w-pub.yaml' },
    });
    expect(String(publish?.actor)).toMatch(/^local:/);

    const history = await runCli(['rules', 'history', '--world', 'w-pub', '--endpoints', endpoints]);
    expect(history.code, history.err).toBe(0);
    expect(history.out).toMatch(
      new RegExp(`in force ${ruleSetVersion(LOOSER)} \\(w-pub\\.yaml \\(published r1\\)\\)`),
    );
    expect(history.out).toMatch(/r1 {2}sha256:\w+ {2}w-pub\.yaml {2}published .* by local:/);
  });

  it('a publish that needs approval waits; the same person cannot approve it', async () => {
    const tighter = LOOSER.replace('limit: 0.03', 'limit: 0.029');
    const f = join(dir, 'w-pub-2.yaml');
    await writeFile(f, tighter);
    const r = await runCli([
      'rules',
      'publish',
      f,
      '--world',
      'w-pub',
      '--require-approval',
      '--endpoints',
      endpoints,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/waiting for a second person/);
    const self = await runCli(['rules', 'approve', '--world', 'w-pub', '--endpoints', endpoints]);
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/a second person must approve it \(four eyes\)/);
    const rejected = await runCli(['rules', 'reject', '--world', 'w-pub', '--endpoints', endpoints]);
    expect(rejected.code, rejected.err).toBe(0);
    const history = await runCli([
      'rules',
      'history',
      '--world',
      'w-pub',
      '--json',
      '--endpoints',
      endpoints,
    ]);
    expect(JSON.parse(history.out)).toMatchObject({ in_force: ruleSetVersion(LOOSER), pending: null });
  });

  it('a table AWS does not have is one line naming the error, never a stack trace', async () => {
    const wrong = join(dir, 'wrong-table.json');
    await writeFile(
      wrong,
      JSON.stringify({ ...p.stack.env, STATE_TABLE_NAME: 'no-such-table', pid: process.pid }),
    );
    const r = await runCli(['rules', 'history', '--world', 'w-pub', '--endpoints', wrong]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^exit-engine rules: AWS refused the request: ResourceNotFoundException: .* \(HTTP 400(, request id \S+)?\)$/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
