import { App, Validations } from 'aws-cdk-lib';
import { CfnEventBusPolicy } from 'aws-cdk-lib/aws-events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildExitEngine } from '#infra/exit-engine-app.js';
import { AwsSolutionsPlugin } from '#infra/nag.js';
import { CDK_JSON_CONTEXT } from './synth.js';

// aws-cdk-lib warns once per process per deprecated name, so this file holds one test: the first read
// of CfnEventBusPolicy#principal in this worker is the pack's, inside the plugin.
describe('AwsSolutionsPlugin (the pack as `cdk synth` runs it)', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs cdk-nag without the deprecation notice its EventBusOpenAccess rule triggers, and still reports', () => {
    vi.stubEnv('JSII_DEPRECATED', 'fail');
    const principalRead = vi.spyOn(CfnEventBusPolicy.prototype, 'principal', 'get');
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    buildExitEngine(app, { snapshotProducerPrincipals: ['arn:aws:iam::111122223333:role/hub'] });
    const plugin = new AwsSolutionsPlugin(app);
    const reports: string[] = [];
    const validate = plugin.validate.bind(plugin);
    vi.spyOn(plugin, 'validate').mockImplementation((context) => {
      const report = validate(context);
      reports.push(JSON.stringify(report));
      return report;
    });
    Validations.of(app).addPlugins(plugin);

    expect(() => app.synth()).not.toThrow();
    // The rule did read the deprecated property (under `fail` that read throws unless silenced)...
    expect(principalRead).toHaveBeenCalled();
    // ...and nothing in the pack's report is a rule that threw.
    expect(reports).toHaveLength(1);
    expect(reports[0]).not.toMatch(/threw an error|deprecated/);
    expect(JSON.parse(reports[0]!).success).toBe(true);
    // The caller's setting is back once the pack is done.
    expect(process.env.JSII_DEPRECATED).toBe('fail');
  });
});
