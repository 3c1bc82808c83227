import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import * as ours from '#lib/runtime/cls-namespace.js';

const SCENARIOS = join(PROJECT_ROOT, 'test', 'fixtures', 'cls', 'scenarios.mjs');

/** What cls-hooked itself answers, in a child process (it installs an async hook where it loads). */
function clsHookedRecords(call = 'runScenarios(cls)'): unknown {
  const context = createRequire(import.meta.url).resolve('cls-hooked/context');
  const script = `
    const { createRequire } = await import('node:module');
    const cls = createRequire(${JSON.stringify(context)})(${JSON.stringify(context)});
    const { runScenarios, runRandomPrograms } = await import(${JSON.stringify(pathToFileURL(SCENARIOS).href)});
    console.log(JSON.stringify(await ${call}));
  `;
  // The random programs' records are ~650 KB of JSON, near spawnSync's default 1 MB buffer.
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`cls-hooked scenarios failed: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

describe("cls-hooked's namespace on AsyncLocalStorage (the Lambda bundles' X-Ray context)", () => {
  it('answers every scenario as cls-hooked does', async () => {
    const { runScenarios } = (await import(pathToFileURL(SCENARIOS).href)) as {
      runScenarios: (cls: typeof ours) => Promise<[string, unknown][]>;
    };
    const reference = clsHookedRecords() as [string, unknown][];
    const records = await runScenarios(ours);
    // The scenarios are not vacuous: the reference saw the contexts they are about.
    expect(Object.fromEntries(reference)).toMatchObject({
      'a callback queued before enter': 'facade',
      'after a timer': 'DynamoDB',
      'outside after run': 'handler',
      'concurrent runs': [
        ['first', 'first', 'first-later'],
        ['second', 'second', 'second-later'],
      ],
    });
    expect(JSON.parse(JSON.stringify(records))).toEqual(reference);
  }, 30_000);

  it('answers random programs of nested runs, sets, reads and awaits as cls-hooked does (property)', async () => {
    const { runRandomPrograms } = (await import(pathToFileURL(SCENARIOS).href)) as {
      runRandomPrograms: (cls: typeof ours, seeds: number[]) => Promise<string[]>;
    };
    const seeds = Array.from({ length: 200 }, (_, i) => 1 + i * 7919);
    const reference = clsHookedRecords(`runRandomPrograms(cls, ${JSON.stringify(seeds)})`) as string[];
    const records = await runRandomPrograms(ours, seeds);
    // Not vacuous: the programs nest, and reads inside runs see values set inside them.
    expect(reference.length).toBeGreaterThan(5_000);
    expect(reference.some((r) => /^\d+:root\/\d+\/\d+:/.test(r))).toBe(true);
    expect(reference.some((r) => /segment=root\//.test(r))).toBe(true);
    expect(records).toEqual(reference);
  }, 60_000);

  it("leaves a rejected runPromise's context, where cls-hooked keeps it active for the caller", async () => {
    const ns = ours.createNamespace('rejections');
    ns.enter(ns.createContext());
    ns.set('segment', 'base');
    const rejected = await ns
      .runPromise(async () => {
        ns.set('segment', 'rejecting');
        await Promise.resolve();
        throw new Error('no');
      })
      .catch((error: Error & Record<string, { segment?: string }>) => error);
    expect(rejected[ours.ERROR_SYMBOL]?.segment).toBe('rejecting');
    expect(ns.get('segment')).toBe('base');
    ours.destroyNamespace('rejections');
  });

  it('names the namespace it cannot destroy and refuses to enter nothing', () => {
    expect(() => ours.destroyNamespace('nowhere')).toThrow(`can't delete nonexistent namespace! "nowhere"`);
    const ns = ours.createNamespace('refusals');
    expect(() => ns.enter(undefined as never)).toThrow('context must be provided for entering');
    expect(() => ns.exit(ns.createContext())).toThrow("context not currently entered; can't exit");
    ours.destroyNamespace('refusals');
  });
});
