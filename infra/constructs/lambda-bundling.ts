import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRuleSetDirectory } from '#lib/rules/compile-rule-sets.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';

/**
 * The esbuild settings of every Lambda bundle, in one place: the house construct
 * (infra/constructs/engine-function.ts) passes them to CDK's NodejsFunction, and the pipeline bench
 * (bench/pipeline.bench.ts) builds the same bundle with them to measure its size and init. No CDK import,
 * so the bench can read them without loading aws-cdk-lib.
 */

/** ESM output has no `require`; some CommonJS dependencies still call it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/**
 * Module replacements in the Lambda bundle only. Lambda always gives a function its credentials in the
 * environment, so the SDK's default chain (ini files, SSO, STS web identity, IMDS, with the STS and SSO
 * clients they carry: ~130 KB) is swapped for an environment-only provider.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lib/adapters/lambda-credentials.ts',
};

/** What both builds share: Node 22 ESM, minified, ES modules preferred (they tree-shake), no legal comments. */
export const LAMBDA_ESBUILD = {
  target: 'node22',
  format: 'esm',
  platform: 'node',
  minify: true,
  treeShaking: true,
  mainFields: ['module', 'main'],
  // The licences stay in node_modules and package-lock.json; in the bundle they are bytes to parse.
  legalComments: 'none',
  alias: LAMBDA_ALIASES,
  banner: ESM_REQUIRE_BANNER,
} as const;

let compiledDir: string | undefined;
const compiled = new Map<string, string>();

/**
 * The rule sets of `rulesetsDir` compiled into the one JSON file a Lambda reads at cold start
 * (lib/rules/compiled-rule-sets.ts), written to a temporary file the bundle step copies beside the code.
 * Compiling validates every file: an invalid rule set fails here, at synth, with every problem named.
 * Once per process per folder content (a synth builds five functions from the same folder).
 */
export function compiledRuleSetsFile(rulesetsDir: string): string {
  const json = compileOnce(rulesetsDir);
  let file = compiled.get(json);
  if (file === undefined) {
    if (compiledDir === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'exit-engine-rulesets-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      compiledDir = dir;
    }
    file = join(compiledDir, `${compiled.size + 1}-${COMPILED_RULESETS_FILE}`);
    writeFileSync(file, json);
    compiled.set(json, file);
  }
  return file;
}

const compiledByContent = new Map<string, string>();

/** The compiled JSON, recompiled only when a file in the folder changed. */
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
