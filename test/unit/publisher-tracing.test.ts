import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventBridgeClient } from '#lib/adapters/eventbridge/put-events.js';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { LocalEventBus } from '#lib/local/local-event-bus.js';

const BUS = 'exit-engine-test';

interface Subsegment {
  name: string;
  namespace?: string;
  http?: { request?: { method?: string; url?: string }; response?: { status?: number } };
  end_time?: number;
}

/**
 * What X-Ray records of a publish now that PutEvents is a plain signed HTTPS request and no SDK client is
 * captured: Powertools' Tracer, once constructed with tracing on (in Lambda: `traceAwsClient` builds it at
 * cold start), patches node:http / node:https (captureHTTPsGlobal), which aws-json's requests go through.
 * This file builds the Tracer, which patches process-wide, so it is a file of its own.
 */
describe('a traced publish (Powertools Tracer, HTTPS capture)', () => {
  let bus: LocalEventBus;
  let endpoint: string;
  beforeAll(async () => {
    bus = new LocalEventBus();
    bus.createEventBus(BUS);
    ({ endpoint } = await bus.start());
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await bus.stop();
  });

  it('records each PutEvents call as a remote HTTP subsegment of the invocation, retries included', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    const { default: xray } = await import('aws-xray-sdk-core');
    const tracer = new Tracer({ serviceName: 'exit-engine' });
    const publisher = new EventBridgeSignalPublisher(
      eventBridgeClient({ endpoint, region: LOCAL_REGION, credentials: () => LOCAL_CREDENTIALS }),
      BUS,
      { sleep: async () => {} },
    );
    // One entry fails once: the publisher's retry of it is a second call.
    bus.injectPutEventsFailures({ count: 1, errorCode: 'ThrottlingException' });
    const invocation = new xray.Segment('exit-engine-evaluate-snapshot');
    await xray.getNamespace().runPromise(async () => {
      tracer.setSegment(invocation);
      await publisher.publish([
        { id: 'evt-1', type: 'exit_signal_emitted', time: '2026-12-02T00:00:00Z' },
        { id: 'evt-2', type: 'exit_signal_emitted', time: '2026-12-02T00:00:00Z' },
      ]);
    });
    const calls = (invocation.subsegments ?? []) as unknown as Subsegment[];
    const { hostname } = new URL(endpoint);
    expect(
      calls.map((s) => [s.name, s.namespace, s.http?.request?.method, s.http?.response?.status]),
    ).toEqual([
      [hostname, 'remote', 'POST', 200],
      [hostname, 'remote', 'POST', 200],
    ]);
    expect(calls[0]!.http?.request?.url).toBe(`http://${hostname}/`);
    expect(calls.every((s) => typeof s.end_time === 'number')).toBe(true);
  });
});
