import { createHook } from 'node:async_hooks';
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsJsonClientOptions,
  AwsServiceError,
  AwsTransportError,
  awsJsonClient,
  type ServiceFault,
} from '#lib/adapters/aws-json.js';
import {
  type ScriptedAwsService,
  type ScriptedReply,
  startScriptedAwsService,
} from '#test/support/scripted-aws-service.js';

const PROTOCOL = {
  signingName: 'dynamodb',
  endpointPrefix: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
} as const;

/**
 * No AWS service can fail on demand here: a loopback stand-in (test/support/scripted-aws-service.ts)
 * answers each request with the next scripted reply (a status and body, a hang, or a dropped connection),
 * as a JSON-protocol service would.
 */
describe('awsJsonClient (signed JSON-protocol calls over node:http)', () => {
  let service: ScriptedAwsService;
  let endpoint = '';
  beforeAll(async () => {
    service = await startScriptedAwsService('application/x-amz-json-1.0');
    endpoint = service.endpoint;
  });
  afterAll(() => service.close());
  beforeEach(() => {
    service.requests.length = 0;
    service.script = [];
  });
  const seen = () =>
    service.requests.map((r) => ({
      target: r.target,
      contentType: r.headers['content-type'],
      authorization: r.headers.authorization,
      token: r.headers['x-amz-security-token'] as string | undefined,
      body: r.text,
    }));

  const delays: number[] = [];
  const client = (extra: Partial<AwsJsonClientOptions> = {}) => {
    delays.length = 0;
    return awsJsonClient(PROTOCOL, {
      region: 'eu-west-1',
      endpoint,
      credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok' }),
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0.5,
      ...extra,
    });
  };

  it('posts the input as JSON with the target, content type and a SigV4 signature for the service and region', async () => {
    service.script = [{ status: 200, body: '{"Item":{"pk":{"S":"a"}}}' }];
    const out = await client().call('GetItem', { TableName: 't', Key: { pk: { S: 'a' } } });
    expect(out).toEqual({ Item: { pk: { S: 'a' } } });
    expect(seen()).toHaveLength(1);
    expect(seen()[0]!.target).toBe('DynamoDB_20120810.GetItem');
    expect(seen()[0]!.contentType).toBe('application/x-amz-json-1.0');
    expect(seen()[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(seen()[0]!.token).toBe('tok');
    expect(JSON.parse(seen()[0]!.body)).toEqual({ TableName: 't', Key: { pk: { S: 'a' } } });
  });

  it('answers an empty 2xx body as {}', async () => {
    service.script = [{ status: 200, body: '' }];
    expect(await client().call('PutItem', {})).toEqual({});
  });

  it('names a service error by its code without the namespace, keeps the document, and does not retry a client error', async () => {
    const doc = {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
    };
    service.script = [{ status: 400, body: JSON.stringify(doc), headers: { 'x-amzn-requestid': 'req-1' } }];
    const error = await client()
      .call('TransactWriteItems', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsServiceError);
    const e = error as AwsServiceError;
    expect(e.name).toBe('TransactionCanceledException');
    expect(e.code).toBe('TransactionCanceledException');
    expect(e.message).toMatch(/^Transaction cancelled/);
    expect(e.fields.CancellationReasons).toEqual(doc.CancellationReasons);
    expect(e.requestId).toBe('req-1');
    expect(e.$fault).toBe('client');
    expect(e.retryable).toBe(false);
    expect(seen()).toHaveLength(1);
  });

  it('reads the code from the x-amzn-errortype header when the body has none', async () => {
    service.script = [
      {
        status: 403,
        body: '',
        headers: { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/' },
      },
    ];
    const error = (await client()
      .call('PutEvents', {})
      .catch((e: unknown) => e)) as AwsServiceError;
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe('AccessDeniedException (HTTP 403)');
  });

  it('builds the service’s own error classes through errorFor', async () => {
    class ConditionalCheckFailedException extends AwsServiceError {}
    const errorFor = (fault: ServiceFault) =>
      fault.code === 'ConditionalCheckFailedException'
        ? new ConditionalCheckFailedException(fault)
        : new AwsServiceError(fault);
    service.script = [
      {
        status: 400,
        body: '{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}',
      },
    ];
    const error = await client({ errorFor })
      .call('PutItem', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as Error).name).toBe('ConditionalCheckFailedException');
  });

  it('retries throttling with the 500 ms base and a server fault with the 100 ms base, full jitter, then answers', async () => {
    service.script = [
      {
        status: 400,
        body: '{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}',
      },
      { status: 503, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable"}' },
      { status: 200, body: '{"Count":1}' },
    ];
    expect(await client().call('Query', {})).toEqual({ Count: 1 });
    expect(seen()).toHaveLength(3);
    // random() = 0.5: half of base × 2^(attempt − 1).
    expect(delays).toEqual([250, 100]);
  });

  it('gives up after maxAttempts with the last error, and never retries when maxAttempts is 1', async () => {
    service.script = [500, 500, 500, 500].map((status) => ({
      status,
      body: '{"__type":"InternalServerError"}',
    }));
    const error = (await client()
      .call('GetItem', {})
      .catch((e: unknown) => e)) as AwsServiceError;
    expect(error.name).toBe('InternalServerError');
    expect(error.$fault).toBe('server');
    expect(seen()).toHaveLength(3);
    service.requests.length = 0;
    await expect(client({ maxAttempts: 1 }).call('GetItem', {})).rejects.toBeInstanceOf(AwsServiceError);
    expect(seen()).toHaveLength(1);
  });

  it('counts the earlier attempts of a call whose effect is unknown on the error that ends it', async () => {
    const refusal = { status: 400, body: '{"__type":"AccessDeniedException"}' };
    const throttle = { status: 400, body: '{"__type":"ThrottlingException"}' };
    const fault = { status: 500, body: '{"__type":"InternalServerError"}' };
    const attemptsInDoubt = async (replies: ScriptedReply[]) => {
      service.script = replies;
      return (
        (await client()
          .call('PutItem', {})
          .catch((e: unknown) => e)) as AwsServiceError
      ).attemptsInDoubt;
    };
    expect(await attemptsInDoubt([refusal])).toBe(0);
    expect(await attemptsInDoubt([throttle, refusal])).toBe(0);
    expect(await attemptsInDoubt(['drop', refusal])).toBe(1);
    expect(await attemptsInDoubt([fault, 'drop', throttle])).toBe(2);
  });

  it('retries a dropped connection and a hung attempt as transport errors', async () => {
    service.script = ['drop', 'hang', { status: 200, body: '{"ok":true}' }];
    expect(await client({ attemptTimeoutMs: 300 }).call('GetItem', {})).toEqual({ ok: true });
    expect(seen()).toHaveLength(3);
  });

  it('reports a hang on every attempt as a timed-out transport error', async () => {
    service.script = ['hang', 'hang'];
    const error = (await client({ attemptTimeoutMs: 200, maxAttempts: 2 })
      .call('GetItem', {})
      .catch((e: unknown) => e)) as AwsTransportError;
    expect(error).toBeInstanceOf(AwsTransportError);
    expect(error.timedOut).toBe(true);
    expect(error.aborted).toBe(false);
    expect(error.message).toBe('DynamoDB_20120810.GetItem: no answer in 200 ms');
  });

  it('stops at once when the caller aborts: no retry after the caller’s deadline', async () => {
    service.script = ['hang', { status: 200, body: '{}' }];
    const error = (await client({ attemptTimeoutMs: 10_000 })
      .call('PutItem', {}, { signal: AbortSignal.timeout(200) })
      .catch((e: unknown) => e)) as AwsTransportError;
    expect(error).toBeInstanceOf(AwsTransportError);
    expect(error.aborted).toBe(true);
    expect(error.timedOut).toBe(false);
    expect(seen()).toHaveLength(1);
  });

  it('reads the credentials on every attempt (they rotate)', async () => {
    let n = 0;
    service.script = [
      { status: 500, body: '{}' },
      { status: 200, body: '{}' },
    ];
    await client({ credentials: () => ({ accessKeyId: `AKID${++n}`, secretAccessKey: 's' }) }).call(
      'GetItem',
      {},
    );
    expect(seen().map((s) => s.authorization?.match(/Credential=(\w+)\//)?.[1])).toEqual(['AKID1', 'AKID2']);
  });

  it('treats a 2xx body that is not JSON as a server fault and retries it', async () => {
    service.script = [
      { status: 200, body: '<html>proxy</html>' },
      { status: 200, body: '{"a":1}' },
    ];
    expect(await client().call('GetItem', {})).toEqual({ a: 1 });
    expect(seen()).toHaveLength(2);
  });

  it('leaves no timer behind once a call has its answer (a busy process would hold one per call for the attempt time)', async () => {
    // A timer per call that outlives it (AbortSignal.timeout's) kept ~11,000 timers and their signals alive
    // at a time in the soak bench: each call's attempt time after it had its answer.
    const timers = new Set<number>();
    const hook = createHook({
      // Only the attempt timers (60 s here): the in-process stand-in's server sets socket timers of its own.
      init(id, type, _trigger, resource) {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === 60_000)
          timers.add(id);
      },
      destroy(id) {
        timers.delete(id);
      },
    });
    service.script = Array.from({ length: 20 }, () => ({ status: 200, body: '{}' }));
    const c = client({ attemptTimeoutMs: 60_000 });
    hook.enable();
    try {
      for (let i = 0; i < 20; i++) await c.call('GetItem', {});
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    expect(seen()).toHaveLength(20);
    expect(timers.size).toBe(0);
  });

  it('sends through the http module’s current request function, so a tracer patching it later sees every call', async () => {
    // Powertools' Tracer (captureHTTPsGlobal) replaces http.request / https.request on the module objects
    // after the function's modules are imported; a call that kept its own binding would go untraced.
    const original = http.request;
    let patched = 0;
    http.request = ((...args: Parameters<typeof http.request>) => {
      patched++;
      return original(...args);
    }) as typeof http.request;
    try {
      service.script = [{ status: 200, body: '{}' }];
      await client().call('GetItem', {});
    } finally {
      http.request = original;
    }
    expect(patched).toBe(1);
    expect(seen()).toHaveLength(1);
  });
});
