import type { RuleOutcome } from '#lib/engine/evaluate.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import type { ReplaySink } from './runner.js';
import { evaluatedAsOf } from './summary.js';

/** The timeline's columns, in order: one row per evaluation and rule (and scope unit). */
export const TIMELINE_COLUMNS = [
  'line',
  'as_of',
  'evaluated_at',
  'world_id',
  'rule_id',
  'scope',
  'mode',
  'measure',
  'limit',
  'clear',
  'utilization',
  'verdict',
  'action',
  'reduction_ratio',
] as const;

export type TimelineFormat = 'csv' | 'jsonl';

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Writes `replay --timeline`: each rule outcome of each evaluation as it is recorded, with the
 * action the evaluation decided for it (the rule's own proposal when nothing was decided, e.g. in
 * shadow). Rows go straight to `write`, so the file can be as long as the stream.
 */
export class TimelineWriter implements ReplaySink {
  rows = 0;

  constructor(
    private readonly format: TimelineFormat,
    private readonly write: (text: string) => void,
  ) {
    if (format === 'csv') write(`${TIMELINE_COLUMNS.join(',')}\n`);
  }

  audit(record: AuditRecord, line: number): void {
    if (record.kind !== 'evaluation') return;
    const decisions = (record.decisions ?? []) as {
      action: string;
      reduction_ratio: number;
      rule_ids: string[];
    }[];
    const evaluatedAt =
      (record.provenance as { evaluated_at?: string } | undefined)?.evaluated_at ?? record.recorded_at;
    for (const o of (record.rules ?? []) as RuleOutcome[]) {
      const decided = decisions.find((d) => d.rule_ids.includes(o.rule_id));
      const row: Record<(typeof TIMELINE_COLUMNS)[number], unknown> = {
        line,
        as_of: evaluatedAsOf(record),
        evaluated_at: evaluatedAt,
        world_id: record.world_id,
        rule_id: o.rule_id,
        scope: o.scope_key,
        mode: o.mode,
        measure: o.measure ?? null,
        limit: o.limit ?? null,
        clear: o.clear ?? null,
        utilization: o.utilization ?? null,
        verdict: o.verdict,
        action: decided?.action ?? o.proposed?.action ?? null,
        reduction_ratio: decided?.reduction_ratio ?? o.proposed?.ratio ?? null,
      };
      this.rows += 1;
      this.write(
        this.format === 'csv'
          ? `${TIMELINE_COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`
          : `${JSON.stringify(row)}\n`,
      );
    }
  }
}

/** The format a timeline path asks for by its extension, or undefined. */
export function timelineFormat(path: string): TimelineFormat | undefined {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.jsonl$/i.test(path)) return 'jsonl';
  return undefined;
}
