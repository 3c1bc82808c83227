import { describe, expect, it } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command } from '#lib/cli/commands/bench.js';

// The benchmarks themselves run in the integration tier (test/integration/bench-command.test.ts):
// a real measurement has no place among millisecond unit tests on a shared machine.
describe('bench command', () => {
  it('rejects an unknown suite as a usage error, before starting anything', async () => {
    await expect(command.run(['--only', 'nope'])).rejects.toThrow(UsageError);
    await expect(command.run(['--only', 'nope'])).rejects.toThrow(
      /--only: must be one of pipeline, engine, risk/,
    );
  });
});
