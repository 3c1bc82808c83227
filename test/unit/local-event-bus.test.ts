import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsRequestEntry,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventBridgeEvent, entrySize, LocalEventBus } from '#lib/local/local-event-bus.js';

function clientFor(endpoint: string, region = 'eu-west-1'): EventBridgeClient {
  return new EventBridgeClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

const entry = (over: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'qmtl.hub',
  DetailType: 'risk_snapshot_updated',
  Detail: JSON.stringify({ world_id: 'w1', version: 1 }),
  ...over,
});

describe('LocalEventBus', () => {
  let bus: LocalEventBus;
  let client: EventBridgeClient;
  let endpoint: string;

  beforeEach(async () => {
    bus = new LocalEventBus({ retryBaseDelayMs: 1 });
    ({ endpoint } = await bus.start());
    client = clientFor(endpoint);
  });

  afterEach(async () => {
    client.destroy();
    await bus.stop();
  });

  it('routes PutEvents from the real SDK client to the rules whose pattern matches', async () => {
    const worlds: EventBridgeEvent[] = [];
    const others: EventBridgeEvent[] = [];
    bus.putRule({
      name: 'snapshots',
      eventPattern: { source: ['qmtl.hub'], detail: { world_id: [{ prefix: 'w' }] } },
      targets: [{ id: 'a', invoke: async (event) => void worlds.push(event) }],
    });
    bus.putRule({
      name: 'others',
      eventPattern: '{"source":[{"anything-but":"qmtl.hub"}]}',
      targets: [{ id: 'b', invoke: async (event) => void others.push(event) }],
    });

    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Resources: ['arn:x'], Time: new Date('2024-05-01T10:20:30.456Z') }),
          entry({ Source: 'elsewhere' }),
        ],
      }),
    );
    await bus.drain();

    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.map((e) => typeof e.EventId)).toEqual(['string', 'string']);
    expect(worlds).toHaveLength(1);
    expect(others).toHaveLength(1);
    expect(worlds[0]).toEqual({
      version: '0',
      id: out.Entries?.[0]?.EventId,
      'detail-type': 'risk_snapshot_updated',
      source: 'qmtl.hub',
      account: '000000000000',
      time: '2024-05-01T10:20:30Z',
      region: 'eu-west-1',
      resources: ['arn:x'],
      detail: { world_id: 'w1', version: 1 },
    });
    expect(others[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('reports per-entry errors in request order and accepts the valid entries', async () => {
    bus.createEventBus('risk');
    const seen: EventBridgeEvent[] = [];
    bus.onEvent((event) => seen.push(event));
    const big = JSON.stringify({ blob: 'x'.repeat(256 * 1024) });

    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Detail: '{not json' }),
          entry({ Detail: '[1,2]' }),
          entry({ Source: undefined }),
          entry({ DetailType: undefined }),
          entry({ Detail: undefined }),
          entry({ Detail: big }),
          entry({ EventBusName: 'nope' }),
          entry({ EventBusName: 'risk' }),
          entry({ EventBusName: 'arn:aws:events:eu-west-1:000000000000:event-bus/risk' }),
        ],
      }),
    );

    expect(out.FailedEntryCount).toBe(7);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'ResourceNotFoundException',
      'ok',
      'ok',
    ]);
    expect(out.Entries?.[2]?.ErrorMessage).toMatch(/Source/);
    expect(out.Entries?.[5]?.ErrorMessage).toMatch(/exceeds/);
    expect(seen).toHaveLength(2);
  });

  it('computes the entry size with the documented formula', () => {
    expect(
      entrySize({ Source: 'ab', DetailType: 'cd', Detail: '{"é":1}', Resources: ['r1'], Time: new Date() }),
    ).toBe(
      14 + 2 + 2 + 8 + 2, // 'é' is two UTF-8 bytes
    );
  });

  it('rejects more than 10 entries as a request-level ValidationException', async () => {
    const error = await client
      .send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventBridgeServiceException);
    expect((error as EventBridgeServiceException).name).toBe('ValidationException');
  });

  it('injects partial failures that the client reads back as FailedEntryCount', async () => {
    bus.injectPutEventsFailures({ count: 2, errorCode: 'ThrottlingException' });
    const out = await client.send(new PutEventsCommand({ Entries: [entry(), entry(), entry()] }));
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);

    bus.injectPutEventsFailures({ count: 1 });
    const next = bus.publishLocal([entry(), entry()]);
    expect(next).toMatchObject({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }, {}] });
  });

  it('retries a failing target and then dead-letters the event with the last error', async () => {
    let calls = 0;
    bus.putRule({
      name: 'flaky',
      eventPattern: { source: ['qmtl.hub'] },
      retryPolicy: { maximumRetryAttempts: 3 },
      targets: [
        {
          id: 'always-fails',
          invoke: async () => {
            calls++;
            throw new Error(`boom ${calls}`);
          },
        },
      ],
    });
    bus.publishLocal([entry()]);
    await bus.drain();

    expect(calls).toBe(4);
    const [dead] = bus.deadLetters();
    expect(dead).toMatchObject({ ruleName: 'flaky', targetId: 'always-fails', attempts: 4 });
    expect(String(dead?.error)).toBe('Error: boom 4');
  });

  it('delivers after a transient failure without dead-lettering', async () => {
    let calls = 0;
    const delivered: string[] = [];
    bus.putRule({
      name: 'transient',
      eventPattern: { source: ['qmtl.hub'] },
      targets: [
        {
          id: 't',
          invoke: async (event) => {
            if (++calls === 1) throw new Error('first call fails');
            delivered.push(event.id);
          },
        },
      ],
    });
    const out = bus.publishLocal([entry()]);
    await bus.drain();
    expect(delivered).toEqual([(out.Entries[0] as { EventId: string }).EventId]);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('delivers asynchronously and drain waits for events that targets publish in turn', async () => {
    const order: string[] = [];
    bus.putRule({
      name: 'first',
      eventPattern: { 'detail-type': ['risk_snapshot_updated'] },
      targets: [
        {
          id: 'emit',
          invoke: async () => {
            order.push('snapshot');
            bus.publishLocal([entry({ DetailType: 'exit_signal_emitted' })]);
          },
        },
      ],
    });
    bus.putRule({
      name: 'second',
      eventPattern: { 'detail-type': ['exit_signal_emitted'] },
      targets: [{ id: 'sink', invoke: async () => void order.push('signal') }],
    });
    bus.publishLocal([entry()]);
    order.push('returned');
    await bus.drain();
    expect(order).toEqual(['returned', 'snapshot', 'signal']);
  });

  it('answers TestEventPattern like EventBridge, including InvalidEventPatternException', async () => {
    const event = JSON.stringify({
      id: '1',
      account: '000000000000',
      source: 'qmtl.hub',
      time: '2024-01-01T00:00:00Z',
      region: 'eu-west-1',
      resources: [],
      'detail-type': 'risk_snapshot_updated',
      detail: { n: 5 },
    });
    const yes = await client.send(
      new TestEventPatternCommand({ EventPattern: '{"detail":{"n":[{"numeric":[">",1]}]}}', Event: event }),
    );
    const no = await client.send(
      new TestEventPatternCommand({ EventPattern: '{"source":["x"]}', Event: event }),
    );
    expect(yes.Result).toBe(true);
    expect(no.Result).toBe(false);

    const error = await client
      .send(new TestEventPatternCommand({ EventPattern: '{"source":"x"}', Event: event }))
      .catch((e: unknown) => e);
    expect((error as EventBridgeServiceException).name).toBe('InvalidEventPatternException');
    expect((error as Error).message).toMatch(/\$\.source/);
  });

  it('answers an unknown operation with a JSON error carrying __type', async () => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.DeleteEverything', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('keeps the bus alive when a target throws synchronously or a listener throws', async () => {
    bus.onEvent(() => {
      throw new Error('listener bug');
    });
    bus.putRule({
      name: 'sync-throw',
      eventPattern: { source: ['qmtl.hub'] },
      retryPolicy: { maximumRetryAttempts: 0 },
      targets: [
        {
          id: 'x',
          invoke: () => {
            throw new Error('sync');
          },
        },
      ],
    });
    const out = await client.send(new PutEventsCommand({ Entries: [entry()] }));
    await bus.drain();
    expect(out.FailedEntryCount).toBe(0);
    expect(bus.deadLetters()).toHaveLength(1);
  });
});

describe('LocalEventBus.stop', () => {
  it('closes keep-alive sockets and pending retry timers so nothing keeps the process alive', async () => {
    const bus = new LocalEventBus({ retryBaseDelayMs: 60_000 });
    const { endpoint } = await bus.start();
    const client = clientFor(endpoint);
    bus.putRule({
      name: 'slow-retry',
      eventPattern: { source: ['qmtl.hub'] },
      targets: [
        {
          id: 'fails',
          invoke: async () => {
            throw new Error('down');
          },
        },
      ],
    });
    await client.send(new PutEventsCommand({ Entries: [entry()] }));
    // Let the first attempt fail so a 60 s backoff timer is pending.
    await new Promise((resolve) => setTimeout(resolve, 20));

    const before = process
      .getActiveResourcesInfo()
      .filter((r) => r === 'Timeout' || r === 'TCPServerWrap').length;
    await bus.stop();
    await bus.drain();
    client.destroy();
    const after = process
      .getActiveResourcesInfo()
      .filter((r) => r === 'Timeout' || r === 'TCPServerWrap').length;

    expect(after).toBeLessThan(before);
    expect(bus.deadLetters()).toHaveLength(1);
    await expect(fetch(endpoint, { method: 'POST' })).rejects.toThrow();
  });

  it('leaves no handle open in a child process (the process exits by itself)', async () => {
    const { execFile } = await import('node:child_process');
    const script = `
      import { LocalEventBus } from '#lib/local/local-event-bus.js';
      import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
      const bus = new LocalEventBus();
      const { endpoint } = await bus.start();
      const client = new EventBridgeClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      bus.putRule({ name: 'r', eventPattern: { source: ['s'] }, targets: [{ id: 't', invoke: async () => {} }] });
      await client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }));
      await bus.drain();
      await bus.stop();
      console.log('stopped');
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: process.cwd(), timeout: 20_000 },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
      child.stdin?.end();
    });
    expect(stdout.trim()).toBe('stopped');
  }, 30_000);
});
