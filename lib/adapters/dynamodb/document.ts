import type { QueryCommandInput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '#lib/engine/ports.js';
import { QueryCommand, ScanCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException } from './client/errors.js';
import { toStorable } from './storable.js';

/** Every page of a query (or the first `limit` items). */
export async function queryAll(
  doc: DynamoDocumentClient,
  input: QueryCommandInput,
  limit?: number,
): Promise<Record<string, unknown>[]> {
  return collect(
    (start) => doc.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) })),
    limit,
  );
}

/** Every page of a scan (or the first `limit` items). */
export async function scanAll(
  doc: DynamoDocumentClient,
  input: ScanCommandInput,
  limit?: number,
): Promise<Record<string, unknown>[]> {
  return collect(
    (start) => doc.send(new ScanCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) })),
    limit,
  );
}

async function collect(
  page: (
    start: Record<string, unknown> | undefined,
  ) => Promise<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }>,
  limit: number | undefined,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const result = await page(start);
    out.push(...(result.Items ?? []));
    start = result.LastEvaluatedKey;
  } while (start && (limit === undefined || out.length < limit));
  return limit === undefined ? out : out.slice(0, limit);
}

/** The append-only audit put: a record id that exists already is never overwritten. */
export function auditPut(table: string, record: AuditRecord) {
  return {
    TableName: table,
    Item: toStorable(record),
    ConditionExpression: 'attribute_not_exists(record_id)',
  };
}

/** Runs a conditional write; its condition failing (the item is already there) is not an error. */
export async function ignoringConditionFailure(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
