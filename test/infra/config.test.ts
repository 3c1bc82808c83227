import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '#infra/config.js';

const fromContext = (context: Record<string, unknown>) => propsFromContext(new App({ context }).node);

describe('propsFromContext', () => {
  it('gives no props when no context is set, so every default applies', () => {
    expect(fromContext({})).toEqual({});
  });

  it('reads every deploy setting from -c key=value strings', () => {
    expect(
      fromContext({
        existingEventBusName: 'qmtl-bus',
        snapshotSource: 'qmtl.services.riskhub',
        gatewayQueue: 'false',
        gatewayHttpsEndpoint: 'https://gw.example.com/hook',
        gatewayHttpsSecret: 'gateway/api-key',
        gatewayHttpsApiKeyHeader: 'X-Key',
        gatewayTargetBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway',
        alarmEmail: 'ops@example.com',
        monitoredWorlds: 'world-a, world-b',
        snapshotIntervalSeconds: '600',
        approvalAgeAlarmSeconds: '1800',
        snapshotRefBuckets: 'refs-a',
      }),
    ).toEqual({
      existingEventBusName: 'qmtl-bus',
      snapshotSource: 'qmtl.services.riskhub',
      gatewayQueue: false,
      gatewayHttps: {
        endpointUrl: 'https://gw.example.com/hook',
        secretArnOrName: 'gateway/api-key',
        apiKeyHeader: 'X-Key',
      },
      gatewayTargetBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway',
      alarmEmail: 'ops@example.com',
      monitoredWorlds: ['world-a', 'world-b'],
      snapshotIntervalSeconds: 600,
      approvalAgeAlarmSeconds: 1800,
      snapshotRefBuckets: ['refs-a'],
    });
  });

  it('accepts real arrays from cdk.json', () => {
    expect(fromContext({ monitoredWorlds: ['w1', 'w2'] }).monitoredWorlds).toEqual(['w1', 'w2']);
  });

  it('reads the producer principals, the ControlBus pipe role, log retention and per-world metrics', () => {
    expect(
      fromContext({
        snapshotProducerPrincipals:
          'arn:aws:iam::111122223333:role/hub, arn:aws:iam::111122223333:role/hub-2',
        marketProducerPrincipals: ['arn:aws:iam::111122223333:role/market'],
        controlBusPipeRoleArn: 'arn:aws:iam::111122223333:role/pipe',
        logRetentionDays: '90',
        perWorldMetrics: 'true',
      }),
    ).toEqual({
      snapshotProducerPrincipals: [
        'arn:aws:iam::111122223333:role/hub',
        'arn:aws:iam::111122223333:role/hub-2',
      ],
      marketProducerPrincipals: ['arn:aws:iam::111122223333:role/market'],
      controlBusPipeRoleArn: 'arn:aws:iam::111122223333:role/pipe',
      logRetentionDays: 90,
      perWorldMetrics: true,
    });
  });

  it('refuses a principal that is not an IAM ARN and a retention CloudWatch Logs does not offer', () => {
    expect(() => fromContext({ snapshotProducerPrincipals: 'hub-role' })).toThrow(
      /snapshotProducerPrincipals: 'hub-role' is not an IAM principal ARN/,
    );
    expect(() => fromContext({ logRetentionDays: '42' })).toThrow(/logRetentionDays: .*got 42/);
  });

  it('reads the per-world market concurrency as a whole number ≥ 1, refusing anything else by name', () => {
    expect(fromContext({ marketWorldConcurrency: '40' })).toEqual({ marketWorldConcurrency: 40 });
    for (const bad of ['0', '2.5', 'many'])
      expect(() => fromContext({ marketWorldConcurrency: bad })).toThrow(
        new RegExp(`context marketWorldConcurrency: expected a whole number ≥ 1, got "${bad}"`),
      );
  });

  it('fails synth naming the key on a bad value', () => {
    expect(() => fromContext({ gatewayQueue: 'maybe' })).toThrow(/gatewayQueue/);
    expect(() => fromContext({ snapshotIntervalSeconds: '-5' })).toThrow(/snapshotIntervalSeconds/);
    expect(() => fromContext({ gatewayHttpsEndpoint: 'https://gw.example.com' })).toThrow(/together/);
  });
});
