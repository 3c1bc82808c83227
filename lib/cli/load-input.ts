import { readFile } from 'node:fs/promises';
import { UriRefResolver } from '#lib/adapters/refs/ref-resolver.js';
import { inputShape } from '#lib/app/edge.js';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { type SnapshotData, SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { RefResolutionError } from '#lib/engine/errors.js';
import { resolveSnapshotRefs } from '#lib/engine/resolve-refs.js';

/** An input file or line that is not a snapshot we can use; the message names the problem. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** The snapshot inside a bare snapshot, a CloudEvent or an EventBridge event. */
export function extractSnapshotData(value: unknown): unknown {
  switch (inputShape(value)) {
    case 'eventbridge':
      return extractSnapshotData((value as { detail: unknown }).detail);
    case 'cloudevent':
      return (value as { data: unknown }).data;
    case 'snapshot':
      return value;
    default:
      throw new InputError(
        'not a snapshot, a CloudEvent or an EventBridge event (no weights, data or detail)',
      );
  }
}

/** When a file that is not one JSON document is a JSONL stream, says what to do with it instead. */
export function streamHint(text: string, path = 'FILE'): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (lines.length < 2) return '';
  try {
    JSON.parse(lines[0]!);
  } catch {
    return '';
  }
  return `\n  hint: it looks like a JSONL stream (${lines.length} lines, one event per line); this command takes one snapshot. Replay the stream with 'exit-engine replay --events ${path}', or save one line to its own file.`;
}

/**
 * Reads a snapshot file (bare, CloudEvent, or EventBridge event), validates it against the inbound
 * contract and resolves `file://` refs (and refuses others with a reason), for the CLI.
 */
export async function loadSnapshotFile(path: string): Promise<SnapshotData> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON: ${(error as Error).message}${streamHint(text, path)}`, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = extractSnapshotData(json);
  } catch (error) {
    throw new InputError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = SnapshotDataSchema.safeParse(data);
  if (!parsed.success)
    throw new InputError(`${path}: invalid snapshot:\n  ${formatZodIssues(parsed.error).join('\n  ')}`);
  try {
    return await resolveSnapshotRefs(parsed.data, new UriRefResolver({ allowFiles: true }));
  } catch (error) {
    if (error instanceof RefResolutionError)
      throw new InputError(`${path}: ${error.field}: ${error.message}`, { cause: error });
    throw error;
  }
}
