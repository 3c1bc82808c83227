/**
 * The PutEvents request as EventBridge defines it: entry and result shapes, the envelope targets
 * receive, and per-entry validation with EventBridge's own error codes and limits.
 */

/** The envelope EventBridge delivers to targets (same shape as `aws-lambda`'s EventBridgeEvent). */
export interface EventBridgeEvent<TDetailType extends string = string, TDetail = unknown> {
  version: string;
  id: string;
  'detail-type': TDetailType;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

/** One PutEvents entry, as the SDK sends it (Time is epoch seconds on the wire, a Date in code). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: Date | number | string;
  TraceHeader?: string;
}

/** Per-entry PutEvents result, in request order: an id, or an error code and message. */
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The PutEvents response body. */
export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** A request-level API error, sent as `{ __type, message }` with HTTP 400. */
export class EventBridgeApiError extends Error {
  override readonly name = 'EventBridgeApiError';
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// PutEvents limits: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
export const MAX_ENTRIES = 10;
export const MAX_ENTRY_BYTES = 256 * 1024;
export const DEFAULT_BUS = 'default';

/** An entry PutEvents accepted (its bus, parsed detail and size), or its per-entry error. */
export type CheckedEntry =
  | { busName: string; detail: unknown; size: number }
  | { ErrorCode: string; ErrorMessage: string };

function invalidArgument(parameter: string, reason: string): CheckedEntry {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
  };
}

/** Validates one entry the way PutEvents does, returning a per-entry error rather than throwing. */
export function checkEntry(entry: PutEventsEntry, buses: ReadonlyMap<string, unknown>): CheckedEntry {
  if (typeof entry !== 'object' || entry === null)
    return invalidArgument('Entry', 'Entry must be an object.');
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[field];
    if (value === undefined || value === null || value === '')
      return invalidArgument(field, `${field} is a required argument.`);
    if (typeof value !== 'string') return invalidArgument(field, `${field} must be a string.`);
  }
  if (
    entry.Resources !== undefined &&
    (!Array.isArray(entry.Resources) || entry.Resources.some((r) => typeof r !== 'string'))
  )
    return invalidArgument('Resources', 'Resources must be a list of strings.');
  if (entry.Time !== undefined && Number.isNaN(toDate(entry.Time).getTime()))
    return invalidArgument('Time', 'Time is not a valid timestamp.');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  // EventBridge requires Detail to be a JSON object; arrays and scalars are malformed too.
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const size = entrySize(entry);
  if (size > MAX_ENTRY_BYTES)
    return invalidArgument(
      'Entry',
      `Entry size ${size} bytes exceeds the limit of ${MAX_ENTRY_BYTES} bytes.`,
    );
  const busName = busNameOf(entry.EventBusName);
  if (!buses.has(busName))
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
  return { busName, detail, size };
}

/** The documented PutEvents entry size: Time 14 bytes, UTF-8 bytes of Source, DetailType, Detail, Resources. */
export function entrySize(entry: PutEventsEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  size += Buffer.byteLength(entry.Source ?? '', 'utf8');
  size += Buffer.byteLength(entry.DetailType ?? '', 'utf8');
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

/** The bus an entry names (by name or ARN); no name means the default bus, as in AWS. */
export function busNameOf(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS;
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return arn?.[1] ?? nameOrArn;
}

/** An entry's Time as a Date; the JSON 1.1 protocol carries timestamps as epoch seconds. */
export function toDate(time: Date | number | string): Date {
  if (time instanceof Date) return time;
  if (typeof time === 'number') return new Date(time * 1000);
  return new Date(time);
}

/** ISO 8601 to the second, as EventBridge stamps `time`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
