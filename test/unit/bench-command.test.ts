import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { type BenchResults, command } from '#lib/cli/commands/bench.js';

// A smoke test: the command runs a suite end to end and writes well-formed figures. Speed itself is
// judged by `npm run bench`, never asserted here (the machine is shared and noisy).
describe('bench command', () => {
  let dir: string;
  let printed: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'exit-engine-bench-test-'));
    printed = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the engine suite quickly and writes its figures to --out', async () => {
    const out = join(dir, 'results.json');

    const code = await command.run(['--quick', '--only', 'engine', '--out', out]);

    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(results.generated_at))).toBe(false);
    expect(results.machine.cpus).toBeGreaterThan(0);
    const engine = results.figures.find((f) => f.name.startsWith('engine full evaluation'));
    expect(engine).toBeDefined();
    expect(Number.isFinite(engine!.median)).toBe(true);
    expect(engine!.median).toBeGreaterThan(0);
    expect(typeof engine!.ok).toBe('boolean');
    expect(printed.join('\n')).toMatch(/median/);
    // Wide: the engine suite takes seconds on a loaded machine, and speed is not what this checks.
  }, 60_000);

  it('rejects an unknown suite as a usage error', async () => {
    await expect(command.run(['--only', 'nope', '--out', join(dir, 'x.json')])).rejects.toThrow(UsageError);
  });
});
