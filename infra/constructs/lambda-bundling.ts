import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { compileRuleSetDirectory } from '#lib/rules/compile-rule-sets.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';
import { builtinAliases } from './node-builtin-shims.js';
import { trimmedXraySdkAliases } from './xray-sdk-trim.js';

/**
 * How every Lambda bundle is built, in one place: the house construct (infra/constructs/engine-function.ts)
 * calls `buildLambdaBundle` as its asset's local bundling, and the pipeline bench (bench/pipeline.bench.ts)
 * calls the same function to measure what is deployed. No CDK import, so the bench does not load aws-cdk-lib.
 */

/**
 * ESM output has no `require`. Today no bundle calls it at run time (esbuild resolves every literal
 * `require`, built-ins through their shims); the banner keeps one for a CommonJS dependency that would
 * compute a module's name, built without an `import` of `node:module` (see `builtinAliases`). Dropping it
 * measured within noise (README, Cold start, round 6).
 */
export const ESM_REQUIRE_BANNER =
  "const require=process.getBuiltinModule('node:module').createRequire(import.meta.url);";

/**
 * Module replacements in the Lambda bundle only. Lambda always gives a function its credentials in the
 * environment, so the SDK's default chain (ini files, SSO, STS web identity, IMDS, with the STS and SSO
 * clients they carry: ~130 KB) is swapped for an environment-only provider. aws-xray-sdk-core is replaced
 * by a copy without what our functions never run (`trimmedXraySdkAliases`, infra/constructs/xray-sdk-trim.ts;
 * added by `buildLambdaBundle`, which knows where to write it).
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lib/adapters/lambda-credentials.ts',
};

/** How a bundle takes aws-xray-sdk-core: trimmed (deployed) or whole, as published (the reference the tests compare it with). */
export interface LambdaBundleOptions {
  xraySdk?: 'trimmed' | 'whole';
}

/**
 * Node 22 ESM, minified, ES modules preferred (they tree-shake), no legal comments, and split: what a
 * module reaches only through `import()` (the Powertools Tracer with aws-xray-sdk-core, loaded where
 * tracing is on; the YAML parser and rule-set schema, loaded with the first published rule set) goes
 * into a chunk of its own that a cold start does not parse unless it needs it. Node's built-ins are
 * aliased to shims that skip their ES module facades (`builtinAliases`, infra/constructs/node-builtin-shims.ts;
 * added by `buildLambdaBundle`, which knows where to write them).
 */
export const LAMBDA_ESBUILD = {
  target: 'node22',
  // Arrow functions written as `function` expressions. When V8 compiles a lazily compiled arrow function on
  // its first call, it fully parses every function nested in it instead of pre-parsing them, as it does
  // for a `function` (seen with --log-function-events on Node 20 and 22). esbuild wraps each CommonJS
  // module in an arrow, so the Tracer chunk's aws-xray-sdk-core and cls-hooked were parsed in full at
  // init; zod's initializers are arrows too. esbuild keeps `this` and `arguments` meaning the same.
  // Measured: init instructions -6% with tracing on, -0.4% off (README, Cold start, round 8).
  supported: { arrow: false },
  format: 'esm',
  platform: 'node',
  minify: true,
  treeShaking: true,
  mainFields: ['module', 'main'],
  // The licences stay in node_modules and package-lock.json; in the bundle they are bytes to parse.
  legalComments: 'none',
  alias: LAMBDA_ALIASES,
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  // Linked source maps without the sources, read on demand: the functions run without
  // `--enable-source-maps`, with which Node parses every loaded file's map at load (~50 ms of each cold
  // start) for stack traces only an unexpected error prints; the handlers map those traces through these
  // maps when they happen (lib/source-mapped-stack.ts, from `observeInvocation`).
  sourcemap: 'linked',
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
} as const;

/**
 * Bundles the function at `entry` (a path under `projectRoot`) into `outDir`: `index.mjs`, its chunks,
 * their source maps, and the compiled rule sets (`rulesets.json`) the function reads at cold start.
 * Compiling validates every rule set: an invalid one fails the bundle (and `cdk synth`), every problem named.
 */
export function buildLambdaBundle(
  projectRoot: string,
  entry: string,
  outDir: string,
  { xraySdk = 'trimmed' }: LambdaBundleOptions = {},
): Metafile {
  const result = buildSync({
    ...LAMBDA_ESBUILD,
    mainFields: [...LAMBDA_ESBUILD.mainFields],
    alias: {
      ...builtinAliases(projectRoot),
      ...(xraySdk === 'trimmed' ? trimmedXraySdkAliases(projectRoot) : {}),
      ...LAMBDA_ESBUILD.alias,
    },
    outExtension: { ...LAMBDA_ESBUILD.outExtension },
    banner: { ...LAMBDA_ESBUILD.banner },
    entryPoints: [join(projectRoot, entry)],
    outdir: outDir,
    absWorkingDir: projectRoot,
    bundle: true,
    metafile: true,
    logLevel: 'warning',
  });
  for (const output of Object.keys(result.metafile.outputs))
    if (output.endsWith('.map')) projectRelativeSources(join(projectRoot, output), projectRoot);
  writeFileSync(join(outDir, COMPILED_RULESETS_FILE), compileOnce(join(projectRoot, 'rulesets')));
  return result.metafile;
}

/**
 * esbuild writes a map's sources relative to the output folder (`../../../<checkout>/lib/x.ts`), which
 * puts the build machine's layout into the deployed files; rewritten relative to the project
 * (`lib/x.ts`, `node_modules/zod/...`), the same for every build and what a mapped stack trace shows.
 */
function projectRelativeSources(mapPath: string, projectRoot: string): void {
  const map = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[] };
  map.sources = map.sources.map((source) => relative(projectRoot, resolve(dirname(mapPath), source)));
  writeFileSync(mapPath, JSON.stringify(map));
}

const compiledByContent = new Map<string, string>();

/** The compiled rule sets, recompiled only when a file in the folder changed (a synth bundles five functions). */
function compileOnce(rulesetsDir: string): string {
  const hash = createHash('sha256').update(rulesetsDir);
  for (const name of readdirSync(rulesetsDir).sort()) {
    const path = join(rulesetsDir, name);
    if (statSync(path).isFile()) hash.update(`\u0000${name}\u0000`).update(readFileSync(path));
  }
  const key = hash.digest('hex');
  let json = compiledByContent.get(key);
  if (json === undefined) {
    json = compileRuleSetDirectory(rulesetsDir);
    compiledByContent.set(key, json);
  }
  return json;
}
