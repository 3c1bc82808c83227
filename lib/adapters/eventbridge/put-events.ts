import {
  type AwsJsonClient,
  type AwsJsonClientOptions,
  type AwsJsonProtocol,
  awsJsonClient,
} from '#lib/adapters/aws-json.js';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal-ids.js';

/**
 * EventBridge's API as the SDK's EventBridgeClient speaks it (awsJson1_1, `X-Amz-Target:
 * AWSEvents.PutEvents`, SigV4 service `events`), through the shared JSON-protocol call: the functions
 * publish without the EventBridge SDK client, whose chunk (and the SDK core under it) the first publish of
 * a fresh Lambda used to load.
 */
export const EVENTBRIDGE_PROTOCOL: AwsJsonProtocol = {
  signingName: 'events',
  endpointPrefix: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
};

/** An EventBridge client: signed PutEvents calls with the SDK's standard retries (lib/adapters/aws-json.ts). */
export function eventBridgeClient(options: AwsJsonClientOptions): AwsJsonClient {
  return awsJsonClient(EVENTBRIDGE_PROTOCOL, options);
}

/** PutEvents' limit on one request (and so on one entry). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/** PutEvents takes at most 10 entries per call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;

/** Outbound CloudEvents put on the bus (the detail-type is the CloudEvent type). */
export interface PublishableEvent {
  id: string;
  type: string;
  time: string;
}

/** One PutEvents request entry as it goes on the wire: `Time` in epoch seconds, as the SDK serializes a Date. */
export interface PutEventsRequestEntry {
  EventBusName: string;
  Source: string;
  DetailType: string;
  Time: number;
  Detail: string;
}

/** The PutEvents answer: one result per entry, in request order. */
export interface PutEventsResponse {
  FailedEntryCount?: number;
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/** The entry that puts `event` on `eventBusName` as its `detail`, and its size as EventBridge counts it. */
export function putEventsEntry(
  eventBusName: string,
  event: PublishableEvent,
): { entry: PutEventsRequestEntry; bytes: number } {
  const entry = {
    EventBusName: eventBusName,
    Source: EXIT_ENGINE_SOURCE,
    DetailType: event.type,
    Time: Date.parse(event.time) / 1000,
    Detail: JSON.stringify(event),
  };
  return { entry, bytes: entrySize(entry) };
}

/**
 * PutEvents' size of an entry, as EventBridge counts it: Time (when given) is 14 bytes, Source, DetailType
 * and Detail their UTF-8 bytes (docs: "Calculating Amazon EventBridge PutEvents event entry size").
 */
export function entrySize(e: PutEventsRequestEntry): number {
  return 14 + Buffer.byteLength(e.Source) + Buffer.byteLength(e.DetailType) + Buffer.byteLength(e.Detail);
}

/**
 * The calls a list of entries takes: at most 10 entries and 256 KB each. An entry over 256 KB goes alone,
 * and EventBridge refuses it.
 */
export function* batches<T extends { bytes: number }>(items: readonly T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      batch.length > 0 &&
      (batch.length === MAX_PUT_EVENTS_ENTRIES || bytes + item.bytes > MAX_PUT_EVENTS_BYTES)
    ) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.bytes;
  }
  if (batch.length > 0) yield batch;
}
