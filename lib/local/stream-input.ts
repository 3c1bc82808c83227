import type { PutEventsRequestEntry as PutEventsEntry } from '@aws-sdk/client-eventbridge';
import { inputShape } from '#lib/app/edge.js';
import { DEFAULT_SNAPSHOT_SOURCE } from '#lib/contracts/routes.js';
import { deterministicUuid } from '#lib/engine/ids.js';

/** One line of an input stream, turned into what a producer would put on the bus. */
export type StreamItem =
  | { line: number; kind: 'entry'; entry: PutEventsEntry; label: string }
  | { line: number; kind: 'unparsable'; raw: string; reason: string };

/** Upstream's source for hub snapshots, used when wrapping a bare snapshot. */
export const HUB_SOURCE = DEFAULT_SNAPSHOT_SOURCE;

/**
 * Reads a JSONL stream of EventBridge events, CloudEvents or bare snapshots (blank lines and
 * `#` comments skipped). A line that is not JSON is kept as `unparsable`, never dropped.
 */
export function parseStream(text: string): StreamItem[] {
  const items: StreamItem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      items.push({
        line,
        kind: 'unparsable',
        raw: trimmed.slice(0, 2000),
        reason: `not valid JSON: ${(error as Error).message}`,
      });
      return;
    }
    items.push(toEntry(json, line, trimmed));
  });
  return items;
}

function toEntry(json: unknown, line: number, raw: string): StreamItem {
  const shape = inputShape(json);
  const v = json as Record<string, unknown>;
  if (shape === 'eventbridge') {
    return {
      line,
      kind: 'entry',
      label: String(v['detail-type']),
      entry: {
        Source: typeof v.source === 'string' ? v.source : HUB_SOURCE,
        DetailType: String(v['detail-type']),
        Detail: JSON.stringify(v.detail),
        ...(typeof v.time === 'string' ? { Time: new Date(v.time) } : {}),
        ...(Array.isArray(v.resources) ? { Resources: v.resources as string[] } : {}),
      },
    };
  }
  if (shape === 'cloudevent') {
    return {
      line,
      kind: 'entry',
      label: String(v.type),
      entry: {
        Source: typeof v.source === 'string' ? v.source : HUB_SOURCE,
        DetailType: String(v.type),
        Detail: JSON.stringify(v),
        ...(typeof v.time === 'string' ? { Time: new Date(v.time) } : {}),
      },
    };
  }
  if (shape === 'snapshot')
    return { line, kind: 'entry', label: 'risk_snapshot_updated', entry: wrapSnapshot(v) };
  return {
    line,
    kind: 'unparsable',
    raw: raw.slice(0, 2000),
    reason: 'not an EventBridge event, a CloudEvent or a snapshot',
  };
}

/** Wraps a bare snapshot in upstream's CloudEvent, as the hub would publish it. */
export function wrapSnapshot(snapshot: Record<string, unknown>): PutEventsEntry {
  const world = String(snapshot.world_id ?? '');
  const hash = String(snapshot.hash ?? deterministicUuid('snapshot', JSON.stringify(snapshot)).slice(0, 16));
  const time =
    typeof snapshot.created_at === 'string'
      ? snapshot.created_at
      : String(snapshot.as_of ?? new Date().toISOString());
  const data = {
    ...snapshot,
    event_version: snapshot.event_version ?? 1,
    idempotency_key:
      snapshot.idempotency_key ?? `risk_snapshot_updated:${world}:${hash}:${snapshot.event_version ?? 1}`,
  };
  const cloudEvent = {
    specversion: '1.0',
    id: deterministicUuid('cloudevent', JSON.stringify(data)),
    source: HUB_SOURCE,
    type: 'risk_snapshot_updated',
    time,
    datacontenttype: 'application/json',
    correlation_id: `risk_snapshot:${world}:${hash}`,
    data,
  };
  return {
    Source: HUB_SOURCE,
    DetailType: 'risk_snapshot_updated',
    Detail: JSON.stringify(cloudEvent),
    Time: new Date(time),
  };
}
