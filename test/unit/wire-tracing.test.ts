import https from 'node:https';
import xray from 'aws-xray-sdk-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GetCommand } from '#lib/adapters/dynamodb/client/commands.js';
import { wireTracing } from '#lib/runtime/wire-tracing.js';
import { startStubDynamoDb, stubClient } from './dynamodb-client/stub-dynamodb.js';

const LAMBDA_ENV = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_REGION: 'eu-west-1' };

// The Tracer patches https process-wide once loaded: the tests run in this order, in a file of their own.
describe('wireTracing', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('outside Lambda loads nothing and leaves the DynamoDB client as it is', async () => {
    const before = https.request;
    const doc = stubClient('http://127.0.0.1:1');
    const use = vi.spyOn(doc, 'use');
    await wireTracing({ dynamo: doc }, {});
    expect(use).not.toHaveBeenCalled();
    expect(https.request).toBe(before);
  });

  it('inside Lambda loads the Tracer (https patched) for a function without a DynamoDB client too', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', LAMBDA_ENV.AWS_EXECUTION_ENV);
    const before = https.request;
    await wireTracing({}, LAMBDA_ENV);
    expect(https.request).not.toBe(before);
  });

  it("inside Lambda puts a DynamoDB subsegment, in the function's region, around each call of the client it is given", async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', LAMBDA_ENV.AWS_EXECUTION_ENV);
    const stub = await startStubDynamoDb();
    try {
      const doc = stubClient(stub.endpoint, 'eu-west-1');
      await wireTracing({ dynamo: doc }, LAMBDA_ENV);
      const segment = new xray.Segment('invocation');
      await xray.getNamespace().runPromise(async () => {
        xray.setSegment(segment);
        stub.answer(200, { Item: { pk: { S: 'k' } } });
        await doc.send(new GetCommand({ TableName: 'state', Key: { pk: 'k' } }));
      });
      const recorded = (segment.subsegments ?? []) as unknown as { name: string; aws?: unknown }[];
      expect(recorded.map((s) => ({ name: s.name, aws: s.aws }))).toEqual([
        { name: 'DynamoDB', aws: { operation: 'GetItem', region: 'eu-west-1', table_name: 'state' } },
      ]);
    } finally {
      await stub.close();
    }
  });
});
