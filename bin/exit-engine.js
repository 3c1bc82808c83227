#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so a fresh clone needs no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The CLI prints its own readable lines; Powertools' JSON logs and EMF metrics are for CloudWatch.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('#lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
