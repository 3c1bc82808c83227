import type { ParsedResultError } from '@aws-lambda-powertools/parser/types';
import { formatIssuePath } from '../contracts/issues.js';
import type { ExitEngine, Outcome } from '../engine/engine.js';

/** What every handler needs to record what it could not accept. */
export interface EdgeDeps {
  engine: ExitEngine;
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

/** Records an event the parser refused (schema violation), with every reason naming its field. */
export function recordParseFailure(event: ParsedResultError<unknown>, deps: EdgeDeps): Promise<Outcome> {
  const raw = event.originalEvent;
  const facts = describeRaw(raw);
  const error = event.error as Error & { cause?: unknown };
  const bounds = error.name === 'BoundsError';
  return deps.engine.recordRejection({
    worldId: facts.worldId,
    deliveryId: facts.id,
    time: facts.time,
    reasons: bounds
      ? (error.cause as { message: string }[]).map((c) => c.message)
      : issueLines(error.cause, error.message),
    category: bounds ? 'input_bounds' : 'schema_violation',
    raw,
    nowMs: deps.clock({ time: facts.time }),
  });
}
