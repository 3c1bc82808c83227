import type { ParsedResultError } from '@aws-lambda-powertools/parser/types';
import { rawFacts } from '#lib/app/edge.js';
import { formatIssuePath } from '#lib/contracts/issues.js';
import type { ExitEngine, Outcome } from '#lib/engine/engine.js';

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

/** Records an event the parser refused (schema violation), with every reason naming its field. */
export function recordParseFailure(event: ParsedResultError<unknown>, deps: EdgeDeps): Promise<Outcome> {
  const raw = event.originalEvent;
  const read = rawFacts(raw);
  const facts = {
    id: read.id ?? 'unknown',
    time: read.time ?? new Date(0).toISOString(),
    worldId: read.worldId,
  };
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
