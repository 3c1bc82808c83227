import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { compileEventPattern } from '#lib/local/event-pattern.js';

/**
 * The ControlBus bridge, defined once: the EventBridge Pipe the CDK stack creates from upstream's
 * Kafka topic to our bus, and `exit-engine local --controlbus` applying the same filter and the
 * same target parameters to records shaped as Pipes delivers them.
 *
 * Upstream's ControlBusProducer writes each CloudEvent as the record value (JSON) with the world id
 * as key. Pipes hands a Kafka record over with `value` base64-encoded; for a JSON value, filters
 * and input templates address its fields directly (`value.type`, `$.value.source`): Pipes parses it.
 */

/** Only hub snapshots: the ControlBus topic also carries policy, activation and other events. */
export const CONTROLBUS_FILTER_PATTERN = { value: { type: ['risk_snapshot_updated'] } } as const;
/** The event's `detail`: the CloudEvent itself (the whole record value). */
export const CONTROLBUS_INPUT_TEMPLATE = '<$.value>';
/** The event's `detail-type` and `source`: the CloudEvent's `type` and `source`. */
export const CONTROLBUS_DETAIL_TYPE_PATH = '$.value.type';
export const CONTROLBUS_SOURCE_PATH = '$.value.source';
/** The event's `time`: the CloudEvent's (when the hub published it), not when the pipe read it. */
export const CONTROLBUS_TIME_PATH = '$.value.time';

/** A Kafka record as EventBridge Pipes delivers it (MSK and self-managed Kafka alike). */
export interface PipeKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  timestampType?: string;
  /** Base64 of the key bytes (upstream: the world id). */
  key?: string;
  /** Base64 of the value bytes (upstream: the CloudEvent JSON). */
  value: string;
  headers?: unknown[];
}

/** A record the bridge does not pass on, and why (filtered out is not an error). */
export type BridgeOutcome =
  | { kind: 'entry'; entry: PutEventsRequestEntry }
  | { kind: 'filtered'; reason: string }
  | { kind: 'invalid'; reason: string };

const matchesFilter = compileEventPattern(CONTROLBUS_FILTER_PATTERN);

/** Reads `$.a.b` from a value, as the pipe's JSON paths do. */
function readPath(root: unknown, path: string): unknown {
  let at: unknown = root;
  for (const part of path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * What the pipe does with one record: decode and parse the value, apply the filter, and build the
 * PutEvents entry from the same template and paths the CDK construct gives the pipe.
 */
export function bridgeRecord(record: PipeKafkaRecord): BridgeOutcome {
  if (typeof record.value !== 'string')
    return { kind: 'invalid', reason: 'value: missing (a Pipes Kafka record carries a base64 value)' };
  const text = Buffer.from(record.value, 'base64').toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Pipes passes a non-JSON value on as its base64 string, which no `value.type` filter matches.
    return { kind: 'filtered', reason: `value is not JSON (${(error as Error).message})` };
  }
  const event = { ...record, value };
  if (!matchesFilter(event)) {
    return {
      kind: 'filtered',
      reason: `type ${JSON.stringify(readPath(event, CONTROLBUS_DETAIL_TYPE_PATH))}`,
    };
  }
  const detail = readPath(event, CONTROLBUS_INPUT_TEMPLATE.slice(1, -1));
  const detailType = readPath(event, CONTROLBUS_DETAIL_TYPE_PATH);
  const source = readPath(event, CONTROLBUS_SOURCE_PATH);
  const time = readPath(event, CONTROLBUS_TIME_PATH);
  if (typeof source !== 'string' || source === '')
    return { kind: 'invalid', reason: 'value.source: missing (the CloudEvent names its source)' };
  return {
    kind: 'entry',
    entry: {
      Source: source,
      DetailType: String(detailType),
      Detail: JSON.stringify(detail),
      ...(typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? { Time: new Date(time) } : {}),
    },
  };
}
