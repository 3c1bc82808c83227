import type { AuditRecord, OpsSignalItem } from '#lib/engine/ports.js';
import { formatRuleValue } from '../rules/explain-rule.js';

/** Pads columns to a readable table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `1h 05m`, `42s`, or `overdue 3m` for a span in milliseconds. */
export function formatSpan(ms: number): string {
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const text =
    d > 0
      ? `${d}d ${h}h`
      : h > 0
        ? `${h}h ${String(m).padStart(2, '0')}m`
        : m > 0
          ? `${m}m ${String(s).padStart(2, '0')}s`
          : `${s}s`;
  return neg ? `overdue ${text}` : text;
}

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function signalRow(s: OpsSignalItem): string[] {
  return [
    s.signal_id,
    s.world_id,
    s.strategy_id,
    s.action,
    pct(s.reduction_ratio),
    s.reason,
    s.status,
    s.mode,
    s.emitted_at,
  ];
}

/** The evidence behind a signal in one cell: `3.41% > limit 2.50%` (the measure and its limit). */
export function evidence(s: Pick<OpsSignalItem, 'metrics'>): string {
  const m = s.metrics ?? {};
  const kind = String(m.kind ?? '');
  const measure = typeof m.measure === 'number' ? m.measure : undefined;
  const limit = typeof m.limit === 'number' ? m.limit : undefined;
  if (measure === undefined) return '-';
  const fmt = (v: number) =>
    formatRuleValue(kind, typeof m.measure_name === 'string' ? m.measure_name : undefined, v);
  return limit === undefined ? fmt(measure) : `${fmt(measure)} > limit ${fmt(limit)}`;
}

/**
 * A rule-set version as a publish, proposal or decision records it (lib/rulesets/publish.ts
 * `VersionRef`): `r2 sha256:…` for a stored revision, the source for the bundled set (revision 0),
 * `proposed` for a proposal not yet a revision. Undefined for anything else.
 */
function rulesetRef(v: Record<string, unknown> | null): string | undefined {
  if (!v || typeof v.version !== 'string') return undefined;
  if (typeof v.revision === 'number' && v.revision > 0) return `r${v.revision} ${v.version}`;
  if (v.revision === 0) return `${v.version} (${String(v.source)})`;
  return `${v.version} (proposed)`;
}

/** What an ops action changed, in the words ops use: `pending -> approved`, `none -> r1 sha256:…`. */
export function opsActionChange(rec: Record<string, unknown>): string {
  const before = (rec.before ?? {}) as Record<string, unknown> | null;
  const after = (rec.after ?? {}) as Record<string, unknown> | null;
  if (before?.status !== undefined || after?.status !== undefined) {
    const from = String(before?.status ?? '-');
    const to = String(after?.status ?? '-');
    const approvals = Array.isArray(after?.approvals) ? after.approvals.length : undefined;
    // The first of two four-eyes approvals leaves the status as it was: say what did change.
    return from !== to
      ? `${from} -> ${to}`
      : `still ${to}${rec.note ? `: ${String(rec.note)}` : approvals !== undefined ? `, ${approvals} approval(s) recorded` : ''}`;
  }
  if (rulesetRef(before) !== undefined || rulesetRef(after) !== undefined)
    return `${rulesetRef(before) ?? 'none'} -> ${rulesetRef(after) ?? '-'}`;
  return `${String(before?.state ?? 'none')} -> ${String(after?.state ?? '-')}`;
}

/** What an audit record says, in one line, in the words ops use. */
export function auditSummary(r: AuditRecord): string {
  const rec = r as Record<string, unknown>;
  if (r.kind === 'ops_action') {
    const target = rec.target as { id?: string } | undefined;
    return `${String(rec.action)} ${target?.id ?? ''} by ${String(rec.actor)}: ${opsActionChange(rec)} (${String(rec.reason)})`;
  }
  if (r.kind === 'evaluation') {
    const decisions = (rec.decisions ?? []) as { status?: string }[];
    const rules = (rec.rules ?? []) as { verdict?: string }[];
    const published = rec.published_event_id !== undefined && rec.published_event_id !== null;
    const byStatus = new Map<string, number>();
    for (const d of decisions) {
      // The record is written with the decision, before the publish: `pending_publish` there means
      // "put in the outbox event", not a publish still waiting; the row's own status says the rest.
      const status = d.status === 'pending_publish' ? 'emitted' : String(d.status);
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    }
    return `snapshot ${String((rec.inputs as Record<string, unknown> | undefined)?.snapshot_version)}: ${rules.length} rule outcome(s), ${decisions.length} signal(s)${byStatus.size ? ` [${[...byStatus].map(([k, v]) => `${k} ${v}`).join(', ')}]` : ''}${published ? `, event ${String(rec.published_event_id)}` : ', nothing published'}`;
  }
  const reasons = rec.reasons as string[] | undefined;
  return reasons ? reasons.slice(0, 2).join('; ') : String(rec.snapshot_version ?? '');
}
