import {
  EventBridgeClient,
  type PutEventsCommand,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import { type EventBridgeEvent, LocalEventBus } from '#lib/local/local-event-bus.js';
import { type Delivered, publisherContract } from '#test/support/ports/publisher-contract.js';

const BUS = 'exit-engine-test';
const noSleep = { sleep: async () => {} };

/** Against our local EventBridge over HTTP, with its fault injection failing entries. */
publisherContract('EventBridgeSignalPublisher on the local bus', async () => {
  const bus = new LocalEventBus();
  bus.createEventBus(BUS);
  const seen: EventBridgeEvent[] = [];
  bus.onEvent((e) => seen.push(e));
  const { endpoint } = await bus.start();
  const client = new EventBridgeClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  return {
    publisher: new EventBridgeSignalPublisher(client, BUS, noSleep),
    delivered: async () =>
      seen.map((e) => ({ source: e.source, detailType: e['detail-type'], detail: e.detail })),
    failNextEntries: (count, errorCode) => bus.injectPutEventsFailures({ count, errorCode }),
    close: async () => {
      client.destroy();
      await bus.stop();
    },
  };
});

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
