import { afterEach, describe, expect, it, vi } from 'vitest';
import { synthEngine } from './synth.js';

// aws-cdk-lib reports a deprecated property or method through JSII_DEPRECATED: `warn` (the default) prints
// "[WARNING] … is deprecated" on every synth, `fail` throws. Synthesizing every option under `fail` proves
// the stacks use no deprecated API (CfnEventBusPolicy's `principal`, Table#metricThrottledRequests, …).
describe('CDK API usage', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('synthesizes every option without a deprecated API', () => {
    vi.stubEnv('JSII_DEPRECATED', 'fail');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(() =>
      synthEngine({
        gatewayHttps: { endpointUrl: 'https://gateway.example.com/hook', secretArnOrName: 'gateway/api-key' },
        gatewayTargetBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway',
        alarmEmail: 'risk-ops@example.com',
        monitoredWorlds: ['world-a'],
        snapshotRefBuckets: ['qmtl-risk-refs'],
        snapshotProducerPrincipals: ['arn:aws:iam::111122223333:role/hub'],
        marketProducerPrincipals: ['arn:aws:iam::111122223333:role/market'],
        controlBusPipeRoleArn: 'arn:aws:iam::111122223333:role/pipe',
        logRetentionDays: 90,
      }),
    ).not.toThrow();
    expect(warn.mock.calls.filter((c) => String(c.join(' ')).includes('deprecated'))).toEqual([]);
    warn.mockRestore();
  });

  it('would catch one (the check is not vacuous)', async () => {
    vi.stubEnv('JSII_DEPRECATED', 'fail');
    const { App, Stack } = await import('aws-cdk-lib');
    const { CfnEventBusPolicy } = await import('aws-cdk-lib/aws-events');
    const stack = new Stack(new App(), 'DeprecationCanary');
    expect(
      () =>
        new CfnEventBusPolicy(stack, 'Old', {
          statementId: 'old',
          action: 'events:PutEvents',
          principal: '111122223333',
        }),
    ).toThrow(/deprecated/);
  });
});
