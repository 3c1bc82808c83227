import { describe, expect, it } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { BENCH_SUITES, command } from '#lib/cli/commands/bench.js';
import { SUITE_NAMES } from '../../bench/run.js';

// The benchmarks themselves run in the integration tier (test/integration/bench-command.test.ts):
// a real measurement has no place among millisecond unit tests on a shared machine.
describe('bench command', () => {
  it('rejects an unknown suite as a usage error, before starting anything', async () => {
    await expect(command.run(['--only', 'nope'])).rejects.toThrow(UsageError);
    await expect(command.run(['--only', 'nope'])).rejects.toThrow(
      /--only: must be one of pipeline, engine, risk/,
    );
  });

  it('names the suite a typo was meant to be', async () => {
    await expect(command.run(['baselin'])).rejects.toThrow(/\(got 'baselin'\); did you mean 'baseline'\?/);
  });

  it('knows the same suites as the runner, so a suite the runner has is never refused', () => {
    expect(BENCH_SUITES).toEqual(SUITE_NAMES);
  });
});
