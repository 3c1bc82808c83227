import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { formatIssuePath } from '../contracts/issues.js';
import { RiskSnapshotCloudEventSchema } from '../contracts/risk-snapshot.js';
import type { ExitEngine, Outcome } from '../engine/engine.js';
import { logger, metrics } from '../observability.js';

/** EventBridge's own cap on an event; a bigger detail can only come from a misbehaving local producer. */
export const MAX_EVENT_BYTES = 256 * 1024;

export const SnapshotEventSchema = EventBridgeSchema.extend({ detail: RiskSnapshotCloudEventSchema });
type SnapshotEvent = z.infer<typeof SnapshotEventSchema>;

export interface SnapshotHandlerDeps {
  engine: ExitEngine;
  /** Wall clock in Lambda; the event's own time when replaying history locally. */
  clock: (event: { time?: string }) => number;
}

/** The parser's cause is the Standard Schema issue list (path segments may be `{ key }` objects). */
function issueLines(cause: unknown, fallback: string): string[] {
  const issues = Array.isArray(cause) ? cause : (cause as { issues?: unknown })?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return [fallback];
  return issues.map((issue: { message?: string; path?: readonly unknown[] }) => {
    const path = (issue.path ?? []).map((p) =>
      typeof p === 'object' && p !== null && 'key' in p ? (p as { key: PropertyKey }).key : p,
    ) as PropertyKey[];
    return `${formatIssuePath(path)}: ${issue.message ?? 'invalid'}`;
  });
}

/** Best-effort facts from an event that failed validation, for the rejection record. */
function describeRaw(raw: unknown): { id: string; time: string; worldId: string | undefined } {
  const e = (raw ?? {}) as Record<string, unknown>;
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  const data = (detail.data ?? detail) as Record<string, unknown>;
  return {
    id: typeof e.id === 'string' ? e.id : 'unknown',
    time: typeof e.time === 'string' ? e.time : new Date(0).toISOString(),
    worldId: typeof data.world_id === 'string' && data.world_id !== '' ? data.world_id : undefined,
  };
}

/**
 * The `risk_snapshot_updated` handler: validates at the edge (Powertools parser, safeParse so a bad
 * event is recorded instead of retried), calls the engine, maps the outcome to logs.
 */
export function createSnapshotHandler(deps: SnapshotHandlerDeps) {
  const handle = async (event: ParsedResult<unknown, SnapshotEvent>, context: Context): Promise<Outcome> => {
    metrics.addMetric('SnapshotEventsReceived', MetricUnit.Count, 1);
    if (!event.success) {
      const raw = event.originalEvent;
      const facts = describeRaw(raw);
      const cause = (event.error as Error & { cause?: unknown }).cause;
      const reasons = issueLines(cause, event.error.message);
      return deps.engine.recordRejection({
        worldId: facts.worldId,
        deliveryId: facts.id,
        time: facts.time,
        reasons,
        category: 'schema_violation',
        raw,
        nowMs: deps.clock({ time: facts.time }),
      });
    }
    const e = event.data;
    const bytes = Buffer.byteLength(JSON.stringify(e.detail));
    if (bytes > MAX_EVENT_BYTES) {
      return deps.engine.recordRejection({
        worldId: e.detail.data.world_id,
        deliveryId: e.id,
        time: e.time,
        reasons: [
          `detail: ${bytes} bytes, over EventBridge's ${MAX_EVENT_BYTES}-byte limit; send large inputs by *_ref`,
        ],
        category: 'oversize',
        raw: {
          id: e.id,
          time: e.time,
          'detail-type': e['detail-type'],
          source: e.source,
          detail_bytes: bytes,
        },
        nowMs: deps.clock(e),
      });
    }
    const outcome = await deps.engine.handleSnapshot({
      cloudEvent: e.detail,
      deliveryId: e.id,
      invocationId: context.awsRequestId,
      nowMs: deps.clock(e),
    });
    logger.info('snapshot handled', { ...outcome });
    return outcome;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(parser({ schema: SnapshotEventSchema, safeParse: true }));
}
