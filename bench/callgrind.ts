import { spawnSync } from 'node:child_process';
import { UsageError } from '#lib/cli/args.js';

/**
 * What the benches share to count instructions (`--instructions`) and to run another Node binary
 * (`--node`): bench/module-init.ts for init alone, bench/cold-start.ts (through bench/cold-invocation.ts)
 * for whole cold processes.
 */

/** valgrind's arguments before the command: callgrind, counting only (no profile file kept). */
export const CALLGRIND = ['--tool=callgrind', '--callgrind-out-file=/dev/null'] as const;

/** Millions of instructions from callgrind's own output (its `Collected :` line), or undefined. */
export function collectedMillions(valgrindOutput: string): number | undefined {
  const collected = /Collected : (\d+)/.exec(valgrindOutput);
  return collected ? Number(collected[1]) / 1e6 : undefined;
}

/** Refuses `--instructions` where valgrind is not on the PATH. */
export function requireValgrind(): void {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new UsageError('--instructions needs valgrind on the PATH (apt-get install valgrind)');
}

/** The version of the Node binary at `path` (`--node`); refuses a path that is not one that runs. */
export function nodeBinaryVersion(path: string): string {
  const probe = spawnSync(path, ['-p', 'process.version'], { encoding: 'utf8' });
  const version = probe.stdout?.trim() ?? '';
  if (probe.error || probe.status !== 0 || !/^v\d+\.\d+\.\d+$/.test(version))
    throw new UsageError(
      `--node ${path}: not a Node binary that runs (${probe.error?.message ?? (probe.stderr.trim() || `exit ${probe.status}`)})`,
    );
  return version;
}
