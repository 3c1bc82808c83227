import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/run.js';

// A smoke test: `exit-engine bench` starts the runner, runs a suite end to end and writes well-formed
// figures. Speed itself is judged by `npm run bench`, never asserted here (the machine is shared and
// noisy); the smallest workload and a wide timeout keep the test's own outcome independent of load.
describe('exit-engine bench', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'exit-engine-bench-test-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the engine suite quickly and writes its figures to --out', { timeout: 180_000 }, () => {
    const out = join(dir, 'results.json');

    const run = spawnSync(
      process.execPath,
      ['bin/exit-engine.js', 'bench', '--quick', '--only', 'engine', '--out', out],
      { encoding: 'utf8', timeout: 170_000 },
    );

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(results.generated_at))).toBe(false);
    expect(results.machine.cpus).toBeGreaterThan(0);
    const engine = results.figures.find((f) => f.name.startsWith('engine full evaluation'));
    expect(engine).toBeDefined();
    expect(Number.isFinite(engine!.median)).toBe(true);
    expect(engine!.median).toBeGreaterThan(0);
    expect(typeof engine!.ok).toBe('boolean');
    expect(run.stdout).toMatch(/median/);
  });
});
