import { type ApprovedCut, approvedCutOf } from '#lib/engine/evaluate.js';
import type { SignalTransition } from '#lib/engine/ports.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { queryAll } from './document.js';
import { worldPk } from './outbox-items.js';

/**
 * An approved cut, as the engine must see it at once. An episode that clears in approval mode tells
 * `hold` only to strategies whose cut ops approved; the signals table's by-world index that lists them
 * is eventually consistent, so an approval moments before the clear could be missed, and the gateway
 * would stay cut with nothing ever undoing it. The approval transaction therefore also writes this
 * small marker under the world's partition of the state table, which the engine reads with a
 * consistent query beside the index.
 */
const PREFIX = 'APPROVED#';

export function approvedCutPut(
  stateTable: string,
  signalId: string,
  cut: NonNullable<SignalTransition['approved_cut']>,
): { TableName: string; Item: Record<string, unknown> } {
  return {
    TableName: stateTable,
    Item: {
      pk: worldPk(cut.world_id),
      sk: `${PREFIX}${cut.emitted_at}#${signalId}`,
      signal_id: signalId,
      strategy_id: cut.strategy_id,
      rule_ids: cut.rule_ids,
      emitted_at: cut.emitted_at,
      expires_at: cut.expires_at,
    },
  };
}

/** The markers of cuts approved in a world since `since` (consistent: the engine's own partition). */
export async function approvedCutMarkers(
  doc: DynamoDocumentClient,
  stateTable: string,
  worldId: string,
  since: string,
): Promise<(ApprovedCut & { signal_id: string })[]> {
  const items = await queryAll(doc, {
    TableName: stateTable,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': worldPk(worldId),
      ':from': `${PREFIX}${since}`,
      ':to': `${PREFIX}\uffff`,
    },
    ConsistentRead: true,
  });
  return items.map((i) => ({
    signal_id: String(i.signal_id),
    ...approvedCutOf(i),
  }));
}
