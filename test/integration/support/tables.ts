import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from '#lib/local/local-stack.js';

/** Reads the tables the way an operator would, to check what the pipeline stored. */
export function tableReader(stack: LocalStack) {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: 'us-east-1' }),
  );
  return {
    /** From the base table with a consistent read: an index may lag the write it reflects. */
    async signals(world: string): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new ScanCommand({
            TableName: stack.tables.signals,
            FilterExpression: 'world_id = :w',
            ExpressionAttributeValues: { ':w': world },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      return items.sort((a, b) => String(a.emitted_at).localeCompare(String(b.emitted_at)));
    },
    async audit(world: string): Promise<Record<string, unknown>[]> {
      const out = await doc.send(
        new QueryCommand({
          TableName: stack.tables.audit,
          ConsistentRead: true,
          KeyConditionExpression: 'world_id = :w',
          ExpressionAttributeValues: { ':w': world },
        }),
      );
      return out.Items ?? [];
    },
    async state(): Promise<Record<string, unknown>[]> {
      const out = await doc.send(new ScanCommand({ TableName: stack.tables.state }));
      return out.Items ?? [];
    },
    destroy: () => doc.destroy(),
  };
}
