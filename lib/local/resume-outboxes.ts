/**
 * On start, a local runtime with a data dir completes the outboxes its previous run committed but
 * did not publish (killed between the commit and PutEvents). This is the local stand-in for a
 * scheduled outbox sweeper: it finds pending outboxes by a scan (small local tables) and hands each
 * to the engine's own completion path, so fencing and marking are the engine's, not copied here.
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import type { ExitEngine, Outcome } from '#lib/engine/engine.js';

/** A pending outbox: where it lives. */
export interface PendingOutbox {
  world_id: string;
  evaluation_key: string;
}

/** Every evaluation in the state table whose outbox is still `pending`. */
export async function findPendingOutboxes(
  client: DynamoDBClient,
  stateTable: string,
): Promise<PendingOutbox[]> {
  const found: PendingOutbox[] = [];
  const pages = paginateScan(
    { client },
    {
      TableName: stateTable,
      ConsistentRead: true,
      FilterExpression: 'outbox_status = :pending AND begins_with(sk, :eval)',
      ExpressionAttributeValues: { ':pending': { S: 'pending' }, ':eval': { S: 'EVAL#' } },
      ProjectionExpression: 'sk, world_id',
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const sk = item.sk?.S;
      const world = item.world_id?.S;
      if (sk && world) found.push({ world_id: world, evaluation_key: sk.slice('EVAL#'.length) });
    }
  }
  return found;
}

/** The result of one resume pass: each outbox's outcome, or the error that left it pending. */
export type ResumeResult = { outbox: PendingOutbox } & ({ outcome: Outcome | undefined } | { error: Error });

/** Completes every pending outbox through the engine; failures are reported, not thrown. */
export async function resumePendingOutboxes(
  engine: ExitEngine,
  client: DynamoDBClient,
  stateTable: string,
): Promise<ResumeResult[]> {
  const results: ResumeResult[] = [];
  for (const outbox of await findPendingOutboxes(client, stateTable)) {
    try {
      const outcome = await engine.completePendingOutbox(
        outbox.world_id,
        outbox.evaluation_key,
        `resume-${randomUUID()}`,
      );
      results.push({ outbox, outcome });
    } catch (error) {
      results.push({ outbox, error: error as Error });
    }
  }
  return results;
}
