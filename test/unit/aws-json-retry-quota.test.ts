import { INITIAL_RETRY_TOKENS, NO_RETRY_INCREMENT, RETRY_COST, TIMEOUT_RETRY_COST } from '@smithy/core/retry';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsJsonClientOptions,
  AwsServiceError,
  AwsTransportError,
  awsJsonClient,
  RETRY_QUOTA,
} from '#lib/adapters/aws-json.js';
import {
  type ScriptedAwsService,
  type ScriptedReply,
  startScriptedAwsService,
} from '#test/support/scripted-aws-service.js';

const PROTOCOL = {
  signingName: 'events',
  endpointPrefix: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
} as const;

const FAULT: ScriptedReply = { status: 500, body: '{"__type":"InternalFailure"}' };
const THROTTLE: ScriptedReply = { status: 400, body: '{"__type":"ThrottlingException"}' };
const OK: ScriptedReply = { status: 200, body: '{"FailedEntryCount":0}' };

/**
 * The retry quota of `awsJsonClient` (lib/adapters/aws-json.ts). No AWS service fails on demand here: a
 * loopback stand-in (test/support/scripted-aws-service.ts) answers each request with the next scripted reply.
 */
describe('awsJsonClient retry quota (the SDK standard mode’s token bucket)', () => {
  let service: ScriptedAwsService;
  beforeAll(async () => {
    service = await startScriptedAwsService('application/x-amz-json-1.1');
  });
  afterAll(() => service.close());
  beforeEach(() => {
    service.requests.length = 0;
    service.script = [];
  });

  const client = (extra: Partial<AwsJsonClientOptions> = {}) =>
    awsJsonClient(PROTOCOL, {
      region: 'eu-west-1',
      endpoint: service.endpoint,
      credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
      sleep: async () => undefined,
      ...extra,
    });
  const failure = (c: ReturnType<typeof client>) =>
    c.call('PutEvents', {}).then(
      () => undefined,
      (e: unknown) => e as AwsServiceError | AwsTransportError,
    );

  it('has the figures of the SDK’s standard mode (@smithy/core, as a reference)', () => {
    expect(RETRY_QUOTA).toEqual({
      initial: INITIAL_RETRY_TOKENS,
      retryCost: RETRY_COST,
      timeoutRetryCost: TIMEOUT_RETRY_COST,
      noRetryIncrement: NO_RETRY_INCREMENT,
    });
    expect(client().retryTokens()).toBe(500);
  });

  it('stops retrying once the quota is spent, says so on the error, and lets successes refill it', async () => {
    const c = client({ retryQuota: { initial: 20 } });
    service.script = Array(6).fill(FAULT);
    expect((await failure(c))?.retryQuotaExhausted).toBe(false); // 3 attempts: 20 → 10
    expect((await failure(c))?.retryQuotaExhausted).toBe(false); // 3 attempts: 10 → 0
    expect(service.requests).toHaveLength(6);
    expect(c.retryTokens()).toBe(0);

    service.script = [FAULT];
    const refused = await failure(c);
    expect(refused).toBeInstanceOf(AwsServiceError);
    expect(refused?.retryQuotaExhausted).toBe(true);
    expect(service.requests).toHaveLength(7); // one attempt, no retry

    // A success without a retry gives back 1 token; a retry needs 5.
    for (let i = 0; i < 5; i++) {
      service.script = [OK];
      await c.call('PutEvents', {});
    }
    expect(c.retryTokens()).toBe(5);
    // A retried call that succeeds gives back what its retry took.
    service.script = [THROTTLE, OK];
    await c.call('PutEvents', {});
    expect(c.retryTokens()).toBe(5);
    expect(service.requests).toHaveLength(7 + 5 + 2);
  });

  it('charges 10 tokens for a retry after a timed-out attempt, 5 after a dropped connection', async () => {
    const c = client({ retryQuota: { initial: 15 }, attemptTimeoutMs: 100 });
    service.script = ['hang', 'hang', 'hang'];
    const error = await failure(c);
    expect(error).toBeInstanceOf(AwsTransportError);
    expect((error as AwsTransportError).timedOut).toBe(true);
    expect(error?.retryQuotaExhausted).toBe(true); // 15 → 5 after the first; 10 > 5 refuses the second
    expect(service.requests).toHaveLength(2);
    expect(c.retryTokens()).toBe(5);

    service.script = ['drop', OK];
    await c.call('PutEvents', {});
    expect(c.retryTokens()).toBe(5); // took 5 for the retry, gave it back on success
  });

  it('keeps one bucket per client: a drained client does not stop another from retrying', async () => {
    const drained = client({ retryQuota: { initial: 5 } });
    service.script = [FAULT, FAULT];
    await failure(drained);
    expect(drained.retryTokens()).toBe(0);
    const other = client();
    service.script = [FAULT, OK];
    await other.call('PutEvents', {});
    expect(other.retryTokens()).toBe(500);
  });

  it('never charges what is not retried: a client error, or the last attempt', async () => {
    const c = client({ retryQuota: { initial: 30 } });
    service.script = [{ status: 400, body: '{"__type":"ValidationException"}' }];
    await failure(c);
    service.script = [FAULT, FAULT, FAULT];
    await failure(c);
    expect(c.retryTokens()).toBe(20);
  });

  it('holds the same token count as a plain model of the quota over any sequence of outcomes', async () => {
    // The model: smithy's pre-SRA getDefaultRetryQuota, driven by the standard mode's retry loop.
    type Step = 'ok' | 'fault' | 'throttle' | 'drop' | 'denied';
    const reply: Record<Step, ScriptedReply> = {
      ok: OK,
      fault: FAULT,
      throttle: THROTTLE,
      drop: 'drop',
      denied: { status: 400, body: '{"__type":"AccessDeniedException"}' },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.array(
          fc.array(fc.constantFrom<Step>('ok', 'fault', 'throttle', 'drop', 'denied'), { maxLength: 3 }),
          {
            maxLength: 12,
          },
        ),
        async (initial, calls) => {
          const c = client({ retryQuota: { initial } });
          let model = initial;
          for (const outcomes of calls) {
            // Each call's attempts take the scripted outcomes in turn, then succeed.
            let held = 0;
            let attempts = 0;
            for (let n = 1; ; n++) {
              const step = outcomes[n - 1] ?? 'ok';
              attempts++;
              if (step === 'ok') {
                model = Math.min(initial, model + (held > 0 ? held : 1));
                break;
              }
              if (step === 'denied' || n >= 3 || model < 5) break;
              model -= 5;
              held = 5;
            }
            service.requests.length = 0;
            service.script = outcomes.slice(0, attempts).map((s) => reply[s]);
            await c.call('PutEvents', {}).catch(() => undefined);
            expect(service.requests).toHaveLength(attempts);
            expect(c.retryTokens()).toBe(model);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
