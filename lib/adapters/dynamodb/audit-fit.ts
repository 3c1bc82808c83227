import type { AuditRecord } from '#lib/engine/ports.js';

/** What an audit item may weigh before its long lists are cut (DynamoDB's item limit is 400 KB). */
export const MAX_AUDIT_ITEM_BYTES = 300_000;
/** How many entries of each long list a cut record keeps, as a rejection keeps its first reasons. */
export const KEPT_ENTRIES = 50;

/**
 * An evaluation of a large world (1,000 strategy-scoped outcomes and decisions) can pass DynamoDB's
 * item limit, and the whole commit would fail with it. Such a record keeps the first entries of each
 * list and says how many there were (`<list>_total`, `truncated: true`); every decision is still in
 * its signal row, and the outcomes can be recomputed with `replay`.
 */
export function fitAudit(record: AuditRecord): AuditRecord {
  if (Buffer.byteLength(JSON.stringify(record)) <= MAX_AUDIT_ITEM_BYTES) return record;
  const out: AuditRecord = { ...record, truncated: true };
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value) && value.length > KEPT_ENTRIES) {
      out[key] = value.slice(0, KEPT_ENTRIES);
      out[`${key}_total`] = value.length;
    }
  }
  return out;
}
