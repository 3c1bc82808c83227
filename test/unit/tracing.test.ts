import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import xray from 'aws-xray-sdk-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand } from '#lib/adapters/dynamodb/client/commands.js';
import { dynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { tracedDynamoCalls } from '#lib/adapters/dynamodb/client/tracing.js';
import { traceAwsClient, tracingEnabled, tracingReady, withTracer } from '#lib/observability.js';
import { startStubDynamoDb } from './dynamodb-client/stub-dynamodb.js';

const LAMBDA_ENV = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
/** The middleware aws-xray-sdk-core's captureAWSv3Client adds to a client (one subsegment per call). */
const XRAY_MIDDLEWARE = 'XRaySDKInstrumentation';

const middlewareOf = (client: DynamoDBClient) => client.middlewareStack.identify().join('\n');

describe('tracingEnabled', () => {
  it('is on only inside Lambda, as Powertools decides, unless turned off', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled(LAMBDA_ENV)).toBe(true);
    expect(tracingEnabled({ ...LAMBDA_ENV, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
    expect(tracingEnabled({ ...LAMBDA_ENV, AWS_SAM_LOCAL: 'true' })).toBe(false);
  });
});

describe('traceAwsClient', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('leaves the client untouched outside Lambda (no Tracer loaded, nothing printed)', async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const before = middlewareOf(client);
    expect(traceAwsClient(client, {})).toBe(client);
    await tracingReady();
    expect(middlewareOf(client)).toBe(before);
    expect(before).not.toContain(XRAY_MIDDLEWARE);
    client.destroy();
  });

  it("captures the client with Powertools' Tracer inside Lambda", async () => {
    // The Tracer reads the process environment itself.
    vi.stubEnv('AWS_EXECUTION_ENV', LAMBDA_ENV.AWS_EXECUTION_ENV);
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    expect(traceAwsClient(client, LAMBDA_ENV)).toBe(client);
    await tracingReady();
    expect(middlewareOf(client)).toContain(XRAY_MIDDLEWARE);
    client.destroy();
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
      const doc = dynamoDocumentClient({
        endpoint: stub.endpoint,
        region: 'eu-west-1',
        credentials: () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
        maxAttempts: 1,
      });
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
