import type { AdvanceResult } from '#lib/engine/ports.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { GetCommand, PutCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ConditionalCheckFailedException } from './client/errors.js';

/** The latest market view per scope (`MARKET#<scope>` / `LATEST` in the state table): newer views replace older ones. */

const marketPk = (scope: string) => `MARKET#${scope}`;

export async function putMarket(
  doc: DynamoDocumentClient,
  table: string,
  view: MarketScopeView & { source_event_id: string },
): Promise<AdvanceResult> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: marketPk(view.scope),
          sk: 'LATEST',
          scope: view.scope,
          as_of: view.as_of,
          as_of_ms: view.asOfMs,
          source_event_id: view.source_event_id,
          indicators_json: JSON.stringify(view.indicators),
          series_json: JSON.stringify(view.series),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR as_of_ms < :ms',
        ExpressionAttributeValues: { ':ms': view.asOfMs },
      }),
    );
    return 'advanced';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const got = await doc.send(
      new GetCommand({
        TableName: table,
        Key: { pk: marketPk(view.scope), sk: 'LATEST' },
        ConsistentRead: true,
      }),
    );
    return got.Item?.as_of_ms === view.asOfMs && got.Item?.source_event_id === view.source_event_id
      ? 'same'
      : 'older';
  }
}

export async function loadMarket(
  doc: DynamoDocumentClient,
  table: string,
  scopes: readonly string[],
): Promise<Map<string, MarketScopeView>> {
  const map = new Map<string, MarketScopeView>();
  await Promise.all(
    scopes.map(async (scope) => {
      const got = await doc.send(
        new GetCommand({
          TableName: table,
          Key: { pk: marketPk(scope), sk: 'LATEST' },
          ConsistentRead: true,
        }),
      );
      const item = got.Item;
      if (!item) return;
      map.set(scope, {
        scope,
        as_of: item.as_of,
        asOfMs: item.as_of_ms,
        indicators: JSON.parse(item.indicators_json),
        series: JSON.parse(item.series_json),
      });
    }),
  );
  return map;
}
