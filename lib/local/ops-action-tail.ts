/**
 * Ops actions (approve, reject, mute, unmute, the approval-timeout sweep) are taken by other
 * processes (the ops CLI) against the runtime's tables; the runtime learns of them from the audit
 * table, so it can print a line for each. A filtered scan: local tables are small.
 */
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { scanAll } from '#lib/adapters/dynamodb/document.js';

/** Ops-action audit records recorded at or after `sinceIso`, oldest first. */
export async function opsActionsSince(
  doc: DynamoDocumentClient,
  auditTable: string,
  sinceIso: string,
): Promise<Record<string, unknown>[]> {
  const items = await scanAll(doc, {
    TableName: auditTable,
    FilterExpression: 'kind = :kind AND recorded_at >= :since',
    ExpressionAttributeValues: { ':kind': 'ops_action', ':since': sinceIso },
  });
  return items.sort((a, b) =>
    `${String(a.recorded_at)}${String(a.record_id)}`.localeCompare(
      `${String(b.recorded_at)}${String(b.record_id)}`,
    ),
  );
}
