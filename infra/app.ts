import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { validateRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import { propsFromContext } from './config.js';
import { PROJECT_ROOT } from './constructs/engine-function.js';
import { buildExitEngine } from './exit-engine-app.js';
import { AwsSolutionsPlugin } from './nag.js';
import { assertRuleSetsValid, InvalidRuleSetsError } from './ruleset-guard.js';

// The cdk.json app entry. Deploy settings come from context (`-c key=value`); see infra/config.ts.
try {
  assertRuleSetsValid(join(PROJECT_ROOT, 'rulesets'), validateRuleSetDirectory);
} catch (error) {
  if (!(error instanceof InvalidRuleSetsError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const app = new App();
buildExitEngine(app, propsFromContext(app.node));
Validations.of(app).addPlugins(new AwsSolutionsPlugin(app));
app.synth();
