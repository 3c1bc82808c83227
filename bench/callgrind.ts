import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '#lib/cli/args.js';

/**
 * What the benches share to count instructions (`--instructions`) and to run another Node binary
 * (`--node`): bench/module-init.ts for init alone, bench/cold-start.ts (through bench/cold-invocation.ts)
 * for whole cold processes.
 */

/** valgrind's arguments before the command: callgrind, its profile written to `profileFile`. */
export function callgrindArgs(profileFile: string): string[] {
  return ['--tool=callgrind', `--callgrind-out-file=${profileFile}`];
}

/**
 * V8's hash seed set-up at process start: it searches for random primes (`detail::sprp`), so its cost
 * differs from process to process by up to ~9 M instructions, whatever the process then does. Measured:
 * the same bundle's init counted 630–636 M with it and within 0.3 M of each other without it.
 */
export const RANDOM_START_UP = /^v8::internal::HashSeed::InitializeRoots\b/;

/**
 * Millions of instructions in a callgrind profile (its `totals:` line), less the inclusive cost of the
 * functions `excluded` names (by default `RANDOM_START_UP`), or undefined for a text that is no profile.
 * Reads the format callgrind writes (valgrind.org/docs/manual/cl-format.html): `fn=` opens a function's
 * cost lines, `calls=` says the next cost line is a call's inclusive cost, names are compressed as `(id)`.
 */
export function profileMillions(profile: string, excluded: RegExp = RANDOM_START_UP): number | undefined {
  const names = new Map<string, string>();
  const nameOf = (spec: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec.trim());
    if (!match) return spec.trim();
    if (match[2] !== undefined) names.set(match[1]!, match[2]);
    return names.get(match[1]!) ?? '';
  };
  let total: number | undefined;
  let inExcluded = false;
  let excludedCost = 0;
  for (const line of profile.split('\n')) {
    if (line.startsWith('totals:')) total = Number(line.slice(7).trim().split(/\s+/)[0]);
    else if (line.startsWith('fn=')) inExcluded = excluded.test(nameOf(line.slice(3)));
    else if (line.startsWith('cfn=')) nameOf(line.slice(4));
    else if (inExcluded && /^[+\-*\d]/.test(line)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length >= 2) excludedCost += Number(fields[fields.length - 1]);
    }
  }
  return total === undefined || !Number.isFinite(total) ? undefined : (total - excludedCost) / 1e6;
}

/**
 * Millions of instructions one process (`node` with `args`, in `env`) executes under callgrind, less V8's
 * random start-up (`profileMillions`); throws, naming `label`, when the process or valgrind fails.
 */
export function countProcessMillions(
  label: string,
  node: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): number {
  const profile = join(tmpdir(), `callgrind-${randomUUID()}.out`);
  const run = spawnSync('valgrind', [...callgrindArgs(profile), node, ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const millions = existsSync(profile) ? profileMillions(readFileSync(profile, 'utf8')) : undefined;
  rmSync(profile, { force: true });
  if (run.status !== 0 || millions === undefined)
    throw new Error(`valgrind on ${label} failed (exit ${run.status}): ${(run.stderr ?? '').slice(-600)}`);
  return millions;
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
