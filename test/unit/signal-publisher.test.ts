import {
  EventBridgeClient,
  type PutEventsCommand,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { type EventBridgeEvent, LocalEventBus } from '#lib/local/local-event-bus.js';
import {
  type Delivered,
  type PublisherSubject,
  publisherContract,
} from '#test/support/ports/publisher-contract.js';

const BUS = 'exit-engine-test';
const noSleep = { sleep: async () => {} };

/**
 * The publisher against our local EventBridge over HTTP, with its fault injection failing entries;
 * `lazy` hands it a builder of the client, as the Lambda wires it (lib/runtime/wire.ts).
 */
async function onLocalBus(lazy: boolean): Promise<PublisherSubject> {
  const bus = new LocalEventBus();
  bus.createEventBus(BUS);
  const seen: EventBridgeEvent[] = [];
  bus.onEvent((e) => seen.push(e));
  const { endpoint } = await bus.start();
  const client = new EventBridgeClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  return {
    publisher: new EventBridgeSignalPublisher(lazy ? async () => client : client, BUS, noSleep),
    delivered: async () =>
      seen.map((e) => ({ source: e.source, detailType: e['detail-type'], detail: e.detail })),
    failNextEntries: (count, errorCode) => bus.injectPutEventsFailures({ count, errorCode }),
    close: async () => {
      client.destroy();
      await bus.stop();
    },
  };
}

publisherContract('EventBridgeSignalPublisher on the local bus', () => onLocalBus(false));

/**
 * Against a stand-in for EventBridge's PutEvents that answers failed entries the way the service
 * does when throttled (FailedEntryCount and per-entry ErrorCode, HTTP 200): a real partial failure
 * cannot be provoked here.
 */
publisherContract('EventBridgeSignalPublisher on a stub that fails entries', async () => {
  const delivered: Delivered[] = [];
  let failures = 0;
  let code = '';
  const client = {
    async send(command: PutEventsCommand) {
      const Entries: PutEventsResultEntry[] = (command.input.Entries ?? []).map((entry) => {
        if (failures > 0) {
          failures--;
          return { ErrorCode: code, ErrorMessage: 'stub failure' };
        }
        delivered.push({
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? 'null'),
        });
        return { EventId: `id-${delivered.length}` };
      });
      return { FailedEntryCount: Entries.filter((e) => e.ErrorCode).length, Entries };
    },
  } as unknown as EventBridgeClient;
  return {
    publisher: new EventBridgeSignalPublisher(client, BUS, noSleep),
    delivered: async () => [...delivered],
    failNextEntries: (count, errorCode) => {
      failures = count;
      code = errorCode;
    },
  };
});

/** As the Lambda wires it: the client is built by the first publish (lib/runtime/wire.ts). */
publisherContract('EventBridgeSignalPublisher with its client built on first publish', () =>
  onLocalBus(true),
);

describe('EventBridgeSignalPublisher given a client builder', () => {
  const accepting = {
    async send(command: PutEventsCommand) {
      return { FailedEntryCount: 0, Entries: (command.input.Entries ?? []).map(() => ({ EventId: 'id' })) };
    },
  } as unknown as EventBridgeClient;
  const event = (id: string) => ({ id, type: 'exit_signal_emitted', time: '2026-12-02T00:00:00Z' });

  it('builds the client at the first publish, not before, and once', async () => {
    let builds = 0;
    const publisher = new EventBridgeSignalPublisher(
      async () => {
        builds++;
        return accepting;
      },
      BUS,
      noSleep,
    );
    expect(builds).toBe(0);
    await Promise.all([publisher.publish([event('a')]), publisher.publish([event('b')])]);
    await publisher.publish([event('c')]);
    expect(builds).toBe(1);
  });

  it('throws a failed build and builds again at the next publish', async () => {
    let builds = 0;
    const publisher = new EventBridgeSignalPublisher(
      async () => {
        builds++;
        if (builds === 1) throw new Error('no client yet');
        return accepting;
      },
      BUS,
      noSleep,
    );
    await expect(publisher.publish([event('a')])).rejects.toThrow('no client yet');
    await publisher.publish([event('a')]);
    expect(builds).toBe(2);
  });
});
