import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { traceAwsClient, tracingEnabled, tracingReady } from '#lib/observability.js';

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
