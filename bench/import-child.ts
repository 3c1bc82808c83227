import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { countProcessMillions } from './callgrind.js';

/**
 * What the init benches (bench/module-init.ts, bench/issue-baseline.bench.ts) share: the script a fresh
 * Node process runs to import one module and print the CPU its `await import()` took, the measurement
 * of one such process, and the configuration a function is given at import.
 */

/** Run as `node --input-type=module -e IMPORT_CHILD <file URL>`; prints CPU ms of the import alone. */
export const IMPORT_CHILD = `
const url = process.argv[1];
const before = process.cpuUsage();
await import(url);
const used = process.cpuUsage(before);
process.stdout.write(String((used.user + used.system) / 1000));
`;

/** What a function's configuration needs at import; no endpoints (nothing is called), tracing off. */
export const FUNCTION_IMPORT_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'module-init-bench',
  POWERTOOLS_SERVICE_NAME: 'exit-engine',
  POWERTOOLS_METRICS_NAMESPACE: 'ExitEngine',
  SIGNALS_TABLE_NAME: 'signals',
  STATE_TABLE_NAME: 'state',
  AUDIT_TABLE_NAME: 'audit',
  EVENT_BUS_NAME: 'bus',
  // The AWS SDK warns at import on Node 20 that its next versions need Node 22 (Lambda runs 22).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** What Lambda's active tracing adds to a function's environment at init (the Tracer is loaded). */
export const TRACING_IMPORT_ENV = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  POWERTOOLS_TRACE_ENABLED: 'true',
};

/**
 * One fresh `node` process importing `file` in `env`: the CPU ms of its `await import()`, or with
 * `instructions` the millions of instructions the whole process executed (callgrind; `label` names it
 * in a failure).
 */
export function measureImport(
  node: string,
  file: string,
  env: NodeJS.ProcessEnv,
  instructions: boolean,
  label: string,
): number {
  const args = ['--input-type=module', '-e', IMPORT_CHILD, pathToFileURL(file).href];
  if (!instructions) return Number(execFileSync(node, args, { encoding: 'utf8', env }));
  return countProcessMillions(label, node, args, env);
}
