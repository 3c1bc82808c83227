import xray from 'aws-xray-sdk-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand } from '#lib/adapters/dynamodb/client/commands.js';
import { tracedDynamoCalls } from '#lib/adapters/dynamodb/client/tracing.js';
import { tracingEnabled, tracingReady, withTracer } from '#lib/observability.js';
import { startStubDynamoDb, stubClient } from './dynamodb-client/stub-dynamodb.js';

const LAMBDA_ENV = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

describe('tracingEnabled', () => {
  it('is on only inside Lambda, as Powertools decides, unless turned off', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled(LAMBDA_ENV)).toBe(true);
    expect(tracingEnabled({ ...LAMBDA_ENV, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
    expect(tracingEnabled({ ...LAMBDA_ENV, AWS_SAM_LOCAL: 'true' })).toBe(false);
  });
});

describe('withTracer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('never loads the Tracer outside Lambda (nothing to wait for, nothing printed)', async () => {
    let used = 0;
    withTracer(() => {
      used++;
    }, {});
    await tracingReady();
    expect(used).toBe(0);
  });

  it("hands Powertools' Tracer over inside Lambda, whose construction patches https.request for the functions' AWS calls", async () => {
    // The Tracer reads the process environment itself.
    vi.stubEnv('AWS_EXECUTION_ENV', LAMBDA_ENV.AWS_EXECUTION_ENV);
    const https = (await import('node:https')).default;
    const before = https.request;
    const seen: unknown[] = [];
    withTracer((tracer) => void seen.push(tracer), LAMBDA_ENV);
    await tracingReady();
    expect(seen).toHaveLength(1);
    expect((seen[0] as { constructor: { name: string } }).constructor.name).toBe('Tracer');
    // aws-json sends through https.request on the module object (lib/adapters/signed-http.ts).
    expect(https.request).not.toBe(before);
  });
});

describe('the DynamoDB document client under the Tracer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** Subsegments as X-Ray receives them: name, namespace, the aws and http attributes, flags, children. */
  const shape = (s: Record<string, unknown>): Record<string, unknown> => ({
    name: s.name,
    namespace: s.namespace,
    ...(s.aws ? { aws: s.aws } : {}),
    ...(s.error ? { error: true } : {}),
    ...(s.throttle ? { throttle: true } : {}),
    ...(s.subsegments
      ? {
          subsegments: (s.subsegments as Record<string, unknown>[]).map((c) => ({
            name: c.name,
            namespace: c.namespace,
          })),
        }
      : {}),
  });

  it('records each call as a DynamoDB subsegment with its operation and table, the HTTP call inside it', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', LAMBDA_ENV.AWS_EXECUTION_ENV);
    const stub = await startStubDynamoDb();
    try {
      const doc = stubClient(stub.endpoint, 'eu-west-1');
      withTracer((tracer) => doc.use(tracedDynamoCalls(tracer, 'eu-west-1')), LAMBDA_ENV);
      await tracingReady();
      // An invocation's segment, as Lambda's facade segment is for a function.
      const segment = new xray.Segment('invocation');
      const ns = xray.getNamespace();
      await ns.runPromise(async () => {
        xray.setSegment(segment);
        stub.answer(200, { Item: { pk: { S: 'k' } } });
        await doc.send(new GetCommand({ TableName: 'state', Key: { pk: 'k' } }));
        stub.answer(400, {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
        });
        await expect(
          doc.send(new PutCommand({ TableName: 'signals', Item: { pk: 'k' }, ConditionExpression: 'x' })),
        ).rejects.toThrow('The conditional request failed');
      });
      const recorded = (segment.subsegments ?? []).map((s) => shape(s as unknown as Record<string, unknown>));
      expect(recorded).toEqual([
        {
          name: 'DynamoDB',
          namespace: 'aws',
          aws: { operation: 'GetItem', region: 'eu-west-1', table_name: 'state' },
          subsegments: [{ name: '127.0.0.1', namespace: 'remote' }],
        },
        {
          name: 'DynamoDB',
          namespace: 'aws',
          aws: { operation: 'PutItem', region: 'eu-west-1', table_name: 'signals' },
          error: true,
          subsegments: [{ name: '127.0.0.1', namespace: 'remote' }],
        },
      ]);
    } finally {
      await stub.close();
    }
  });
});
