import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliCommand, didYouMean, parseFlags, UsageError } from '../args.js';

/** The suites bench/run.ts knows (kept here so a wrong --only is a usage error without starting it). */
export const BENCH_SUITES = [
  'pipeline',
  'engine',
  'risk',
  'pattern',
  'soak',
  'write-units',
  'market-fanout',
  'baseline',
];
const RUNNER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'run.ts');

/**
 * `exit-engine bench`: starts the benchmark runner (bench/run.ts) as a process of its own, so the
 * CLI never imports a benchmark and a measurement runs in a process that did nothing else first.
 */
export const command: CliCommand = {
  name: 'bench',
  summary:
    'Run the benchmarks (pipeline: Lambda bundle size, cold init and warm latency; engine: full rule-set evaluation; risk: the risk library; baseline: module init of the bundle issue 12 measured against the current one), print them against their budgets and write them as JSON. Over budget is reported, not an error.',
  usage:
    'exit-engine bench [SUITE] [--only pipeline|engine|risk|pattern|soak|write-units|market-fanout|baseline] [--quick] [--out FILE]',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { only: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' } },
      true,
    );
    // `npm run bench -- soak` is `--only soak`.
    if (positionals.length > 1 || (positionals.length === 1 && values.only !== undefined))
      throw new UsageError(
        `one suite at a time: '${[values.only, ...positionals].filter(Boolean).join("', '")}'`,
      );
    if (positionals[0] !== undefined) values.only = positionals[0];
    if (values.only !== undefined && !BENCH_SUITES.includes(values.only))
      throw new UsageError(
        `--only: must be one of ${BENCH_SUITES.join(', ')} (got '${values.only}')${didYouMean(values.only, BENCH_SUITES)}`,
      );
    if (!existsSync(RUNNER)) {
      console.error(`bench: ${RUNNER} is not here; the benchmarks ship with the repository, not the package`);
      return 1;
    }
    const args = [
      ...(values.only !== undefined ? ['--only', values.only] : []),
      ...(values.quick ? ['--quick'] : []),
      ...(values.out !== undefined ? ['--out', values.out] : []),
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...args], { stdio: 'inherit' });
    return new Promise<number>((resolveCode, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
    });
  },
};
