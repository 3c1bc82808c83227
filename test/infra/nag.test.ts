import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { ExitEngineProps } from '#infra/config.js';
import { buildExitEngine } from '#infra/exit-engine-app.js';
import { AwsSolutionsPlugin } from '#infra/nag.js';
import { CDK_JSON_CONTEXT, synthEngine } from './synth.js';

const FULL: ExitEngineProps = {
  gatewayHttps: { endpointUrl: 'https://gateway.example.com/hook', secretArnOrName: 'gateway/api-key' },
  gatewayTargetBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway',
  alarmEmail: 'risk-ops@example.com',
  monitoredWorlds: ['world-a'],
  snapshotRefBuckets: ['qmtl-risk-refs'],
};

/** Every acknowledgement (rule id → reason) in a construct tree. */
function acknowledgements(root: IConstruct): Record<string, string> {
  const found: Record<string, string> = {};
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) Object.assign(found, entry.data);
    }
  }
  return found;
}

// cdk-nag 3 is a policy-validation plugin: it no longer writes annotations, so
// `Annotations.fromStack(...).findError(...)` would find nothing whatever the stack held. The pack's own
// `validateScope` returns the unacknowledged violations, which is what we assert on.
describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default props', {}],
    ['every subscription and alarm option', FULL],
    ['an existing bus', { existingEventBusName: 'qmtl-bus', gatewayQueue: false }],
  ] as [string, ExitEngineProps][])('finds no unacknowledged error with %s', (_name, props) => {
    const { stateful, stateless } = synthEngine(props);
    for (const stack of [stateful, stateless]) {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      const errors = report.violations.filter((v) => v.severity === 'error');
      expect(
        errors.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
      ).toEqual([]);
    }
  });

  it('does report what it should (the check above is not vacuous)', () => {
    const stack = new Stack(new App(), 'NagCanary');
    new Queue(stack, 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });

  it('lets the registered pack pass a full synth, as `cdk synth` runs it', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    buildExitEngine(app, FULL);
    Validations.of(app).addPlugins(new AwsSolutionsPlugin(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('justifies every acknowledgement in code', () => {
    const { app } = synthEngine(FULL);
    const acks = acknowledgements(app);
    expect(Object.keys(acks).length).toBeGreaterThan(0);
    for (const [id, reason] of Object.entries(acks)) {
      expect(id).toMatch(/AwsSolutions-/);
      expect(reason.length, id).toBeGreaterThan(30);
    }
  });
});
