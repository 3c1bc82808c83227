import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsServiceError, AwsTransportError } from '#lib/adapters/aws-json.js';
import { eventBridgeClient } from '#lib/adapters/eventbridge/put-events.js';
import {
  EventBridgeSignalPublisher,
  type PublisherOptions,
} from '#lib/adapters/eventbridge/signal-publisher.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal-ids.js';
import { PublishError } from '#lib/engine/errors.js';
import {
  type ScriptedAwsService,
  type ScriptedReply,
  type ScriptedRequest,
  startScriptedAwsService,
} from '#test/support/scripted-aws-service.js';

const BUS = 'exit-engine-test';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

interface PutEventsBody {
  Entries: { Detail: string }[];
}

/** Every entry accepted, except those at the given positions, which fail with `code`. */
const accept =
  (failAt: number[] = [], code = '') =>
  (request: ScriptedRequest): ScriptedReply => {
    const { Entries } = request.body as PutEventsBody;
    return {
      status: 200,
      body: {
        FailedEntryCount: failAt.length,
        Entries: Entries.map((_, i) =>
          failAt.includes(i)
            ? { ErrorCode: code, ErrorMessage: 'stand-in failure' }
            : { EventId: `id-${request.target}-${i}` },
        ),
      },
    };
  };

/**
 * A stand-in for EventBridge's PutEvents endpoint on loopback (test/support/scripted-aws-service.ts): the
 * real service cannot be made to throttle, fail entries, drop a connection or hang here. It records every
 * request and answers it with the next scripted reply (default: every entry accepted), in the service's
 * awsJson1_1 shapes. What the bus does with the entries is the local bus's business
 * (test/unit/signal-publisher.test.ts).
 */
describe('EventBridgeSignalPublisher over the PutEvents wire protocol (a stand-in for EventBridge)', () => {
  let service: ScriptedAwsService;
  let endpoint = '';
  beforeAll(async () => {
    service = await startScriptedAwsService('application/x-amz-json-1.1');
    service.otherwise = accept();
    endpoint = service.endpoint;
  });
  afterAll(() => service.close());
  beforeEach(() => {
    service.requests.length = 0;
    service.script = [];
  });
  const seen = () => service.requests;

  const publisher = (
    options: PublisherOptions = {},
    client: { maxAttempts?: number; attemptTimeoutMs?: number } = {},
  ) =>
    new EventBridgeSignalPublisher(
      eventBridgeClient({
        endpoint,
        region: 'eu-west-1',
        credentials: () => CREDENTIALS,
        sleep: async () => {},
        ...client,
      }),
      BUS,
      { sleep: async () => {}, ...options },
    );
  const event = (i: number): EngineEvent =>
    ({
      specversion: '1.0',
      id: `evt-${i}`,
      source: EXIT_ENGINE_SOURCE,
      type: 'exit_signal_emitted',
      time: `2026-12-02T00:00:0${i % 10}.${i % 2 === 0 ? '000' : '250'}Z`,
      data: { world_id: 'w1', note: 'déjà vu', n: i },
    }) as unknown as EngineEvent;
  const events = (n: number) => Array.from({ length: n }, (_, i) => event(i));
  const sentIds = (request: ScriptedRequest) =>
    (request.body as PutEventsBody).Entries.map((e) => (JSON.parse(e.Detail) as { id: string }).id);
  const failure = async (p: Promise<void>) => {
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    return error as PublishError;
  };

  it('sends what the SDK’s PutEventsCommand sends for the same entries: target, content type, signing scope, body', async () => {
    const published = events(3);
    await publisher().publish(published);
    // The same entries as the SDK-based publisher built them (Time a Date, the CloudEvent as Detail).
    const sdk = new EventBridgeClient({ endpoint, region: 'eu-west-1', credentials: CREDENTIALS });
    await sdk.send(
      new PutEventsCommand({
        Entries: published.map((e) => ({
          EventBusName: BUS,
          Source: EXIT_ENGINE_SOURCE,
          DetailType: e.type,
          Time: new Date(e.time),
          Detail: JSON.stringify(e),
        })),
      }),
    );
    sdk.destroy();
    expect(seen()).toHaveLength(2);
    const [ours, theirs] = seen() as [ScriptedRequest, ScriptedRequest];
    expect(ours.body).toEqual(theirs.body);
    // Time on the wire is epoch seconds, fractional where the event has milliseconds.
    expect((ours.body as PutEventsBody).Entries.map((e) => (e as unknown as { Time: number }).Time)).toEqual([
      1796169600, 1796169601.25, 1796169602,
    ]);
    for (const header of ['content-type', 'x-amz-target', 'x-amz-security-token'])
      expect([header, ours.headers[header]]).toEqual([header, theirs.headers[header]]);
    expect(ours.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(ours.headers['content-type']).toBe('application/x-amz-json-1.1');
    const scope = (h: ScriptedRequest['headers']) => /Credential=([^,]+)/.exec(h.authorization ?? '')?.[1];
    expect(scope(ours.headers)).toBe(scope(theirs.headers));
    expect(scope(ours.headers)).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/events\/aws4_request$/);
  });

  it('retries only the entries the answer names as failed, with the publisher’s backoff, then succeeds', async () => {
    const delays: number[] = [];
    service.script = [accept([1, 3], 'ThrottlingException'), accept([1], 'InternalFailure')];
    await publisher({ sleep: async (ms) => void delays.push(ms), baseDelayMs: 40 }).publish(events(5));
    expect(seen().map(sentIds)).toEqual([
      ['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4'],
      ['evt-1', 'evt-3'],
      ['evt-3'],
    ]);
    expect(delays).toEqual([40, 80]);
  });

  it('retries the whole call when FailedEntryCount says something failed but no result entry says which', async () => {
    service.script = [{ status: 200, body: { FailedEntryCount: 1, Entries: [{}, {}] } }];
    await publisher().publish(events(2));
    expect(seen().map(sentIds)).toEqual([
      ['evt-0', 'evt-1'],
      ['evt-0', 'evt-1'],
    ]);
  });

  it('outlasts a throttled request (HTTP 400 ThrottlingException) through the client’s retries', async () => {
    const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
    service.script = [throttled, throttled];
    await publisher().publish(events(2));
    expect(seen().map(sentIds)).toEqual([
      ['evt-0', 'evt-1'],
      ['evt-0', 'evt-1'],
      ['evt-0', 'evt-1'],
    ]);
  });

  it('a throttle that outlasts the client’s retries is definite: nothing was put', async () => {
    const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
    service.script = [throttled, throttled, throttled];
    const error = await failure(publisher().publish(events(2)));
    expect(error.ambiguous).toBe(false);
    expect(error.accepted).toEqual([]);
    expect(error.failed.map((f) => f.errorCode)).toEqual(['ThrottlingException', 'ThrottlingException']);
    expect(error.cause).toBeInstanceOf(AwsServiceError);
  });

  it('a refusal (AccessDeniedException) is definite: earlier calls’ entries accepted, the rest not put or not sent', async () => {
    service.script = [accept(), { status: 400, body: { __type: 'AccessDeniedException', message: 'no' } }];
    const error = await failure(publisher().publish(events(23)));
    expect(error.ambiguous).toBe(false);
    expect(error.accepted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(error.failed.map((f) => [f.index, f.errorCode])).toEqual([
      ...Array.from({ length: 10 }, (_, i) => [10 + i, 'AccessDeniedException']),
      [20, 'NotSent'],
      [21, 'NotSent'],
      [22, 'NotSent'],
    ]);
    expect(seen()).toHaveLength(2);
    expect(error.message).toMatch(/refused 10 entries \(AccessDeniedException: no, request req-2\)/);
  });

  it('a connection dropped mid-publish is ambiguous: the bus may hold that call’s entries; later calls are not sent', async () => {
    // The second call's request reaches the stand-in on every attempt and is never answered.
    service.script = [accept(), 'drop', 'drop', 'drop'];
    const error = await failure(publisher().publish(events(23)));
    expect(error.ambiguous).toBe(true);
    expect(error.cause).toBeInstanceOf(AwsTransportError);
    expect(error.accepted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(error.failed.filter((f) => f.errorCode === 'NoAnswer').map((f) => f.index)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
    expect(error.failed.filter((f) => f.errorCode === 'NotSent').map((f) => f.index)).toEqual([20, 21, 22]);
    // The client retried the unanswered call (as the SDK does): the bus may hold those entries more than once.
    expect(seen().map((s) => sentIds(s)[0])).toEqual(['evt-0', 'evt-10', 'evt-10', 'evt-10']);
    expect(error.retryable).toBe(true);
  });

  it('a server fault (HTTP 500 InternalException) is ambiguous: PutEvents is not atomic, some entries may be put', async () => {
    // One attempt, so the fault alone decides (after retries, the earlier faults would too).
    service.script = [{ status: 500, body: { __type: 'InternalException', message: 'internal' } }];
    const error = await failure(publisher({}, { maxAttempts: 1 }).publish(events(2)));
    expect(error.ambiguous).toBe(true);
    expect(error.failed.map((f) => f.errorCode)).toEqual(['InternalException', 'InternalException']);
  });

  it('a refusal after an unanswered attempt of the same call is ambiguous: the first attempt may have put the entries', async () => {
    service.script = ['drop', { status: 400, body: { __type: 'AccessDeniedException', message: 'expired' } }];
    const error = await failure(publisher().publish(events(2)));
    expect(seen()).toHaveLength(2);
    expect(error.cause).toBeInstanceOf(AwsServiceError);
    expect(error.ambiguous).toBe(true);
  });

  it('a deadline reached before a retry is definite: the failed entries are not sent again, the accepted ones are named', async () => {
    let now = Date.parse('2026-12-02T00:00:00Z');
    service.script = [accept([2], 'ThrottlingException')];
    const p = publisher({
      now: () => now,
      // The backoff before the retry runs past the deadline.
      sleep: async (ms) => {
        now += 1_000 + ms;
      },
    });
    const error = await failure(p.publish(events(3), { deadlineMs: now + 500 }));
    expect(error.ambiguous).toBe(false);
    expect(error.accepted).toEqual([0, 1]);
    expect(error.failed).toEqual([{ index: 2, errorCode: 'DeadlineReached' }]);
    expect(seen()).toHaveLength(1);
  });

  it('a deadline reached while a call is in flight aborts it, ambiguously: the request reached the bus', async () => {
    service.script = ['hang'];
    const error = await failure(publisher().publish(events(2), { deadlineMs: Date.now() + 1_000 }));
    expect(seen()).toHaveLength(1);
    expect(error.ambiguous).toBe(true);
    expect((error.cause as AwsTransportError).aborted).toBe(true);
  });
});
