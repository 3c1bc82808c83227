/**
 * Dead letters on disk: the local runtime appends each one as a JSON line when it happens, so
 * `exit-engine dead-letters` can list them while it runs or after it died, and the full event is
 * there to redrive.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DeadLetter } from './local-event-bus.js';

/** The file name inside a data dir (or `.local/` without one). */
export const DEAD_LETTERS_FILE = 'dead-letters.jsonl';

/** One line of the file. */
export interface DeadLetterRecord {
  at: string;
  rule: string;
  target: string;
  attempts: number;
  error: string;
  event_id: string;
  detail_type: string;
  world_id?: string;
  idempotency_key?: string;
  event: unknown;
}

/** The file for a data dir. */
export function deadLetterPath(dir: string): string {
  return join(dir, DEAD_LETTERS_FILE);
}

/** The record written for a dead letter. */
export function toRecord(d: DeadLetter): DeadLetterRecord {
  const data = (d.event.detail as { data?: { world_id?: unknown; idempotency_key?: unknown } } | undefined)
    ?.data;
  return {
    at: d.at,
    rule: d.ruleName,
    target: d.targetId,
    attempts: d.attempts,
    error: d.error instanceof Error ? d.error.message : String(d.error),
    event_id: d.event.id,
    detail_type: d.event['detail-type'],
    ...(typeof data?.world_id === 'string' ? { world_id: data.world_id } : {}),
    ...(typeof data?.idempotency_key === 'string' ? { idempotency_key: data.idempotency_key } : {}),
    event: d.event,
  };
}

/** Appends one dead letter (synchronously: it must be on disk even if the process dies next). */
export function appendDeadLetter(path: string, d: DeadLetter): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify(toRecord(d))}\n`);
}

/** Reads the file; a missing file is an empty list, a damaged line is reported by number. */
export function readDeadLetters(path: string): { records: DeadLetterRecord[]; damaged: number[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], damaged: [] };
    throw error;
  }
  const records: DeadLetterRecord[] = [];
  const damaged: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as DeadLetterRecord);
    } catch {
      damaged.push(i + 1);
    }
  });
  return { records, damaged };
}
