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
