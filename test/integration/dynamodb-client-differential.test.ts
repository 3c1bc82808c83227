import { gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as lib from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as ours from '#lib/adapters/dynamodb/client/commands.js';
import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import type { TableNames } from '#lib/adapters/dynamodb/engine-store.js';
import { freshTables } from './support/tables.js';

/**
 * Our document client and lib-dynamodb's, the same operations against the same DynamoDB Local (or
 * dynalite): each works in a partition of its own and every answer, item and refusal is compared. Items
 * carry every attribute type (binary gzip bytes, string / number / binary sets, nested maps and lists,
 * empty strings, numbers at the precision limits); conditional failures, a cancelled transaction's
 * reasons, paging and BatchGetItem are compared too.
 */

type Kind = 'GetCommand' | 'PutCommand' | 'UpdateCommand' | 'DeleteCommand' | 'QueryCommand' | 'ScanCommand';
type Send = (kind: Kind | 'BatchGetCommand' | 'TransactWriteCommand', input: object) => Promise<unknown>;

let client: DynamoDBClient;
let theirs: lib.DynamoDBDocumentClient;
let mine: DynamoDocumentClient;
let tables: TableNames;
let transactions: boolean;

beforeAll(async () => {
  const t = await freshTables('it-ddb-diff-');
  ({ client, tables, transactions } = t);
  mine = t.storeClient;
  theirs = lib.DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => client?.destroy());

const SDK_COMMANDS = {
  GetCommand: lib.GetCommand,
  PutCommand: lib.PutCommand,
  UpdateCommand: lib.UpdateCommand,
  DeleteCommand: lib.DeleteCommand,
  QueryCommand: lib.QueryCommand,
  ScanCommand: lib.ScanCommand,
  BatchGetCommand: lib.BatchGetCommand,
  TransactWriteCommand: lib.TransactWriteCommand,
};
const OUR_COMMANDS = {
  GetCommand: ours.GetCommand,
  PutCommand: ours.PutCommand,
  UpdateCommand: ours.UpdateCommand,
  DeleteCommand: ours.DeleteCommand,
  QueryCommand: ours.QueryCommand,
  ScanCommand: ours.ScanCommand,
  BatchGetCommand: ours.BatchGetCommand,
  TransactWriteCommand: ours.TransactWriteCommand,
};
// One constructor type for every command (each takes its own input type; the scenarios pass plain objects).
const viaSdk: Send = async (kind, input) => {
  const Command = SDK_COMMANDS[kind] as unknown as new (input: object) => lib.GetCommand;
  const { $metadata: _, ...out } = await theirs.send(new Command(input));
  return out;
};
const viaOurs: Send = (kind, input) => {
  const Command = OUR_COMMANDS[kind] as unknown as new (input: object) => ours.GetCommand;
  return mine.send(new Command(input));
};

/** What a call gave: its output, or the refusal's name, item and reasons. */
async function observe(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { out: await call() };
  } catch (error) {
    const e = error as Error & { Item?: unknown; CancellationReasons?: { Code?: string; Item?: unknown }[] };
    return {
      error: e.name,
      ...(e.Item ? { Item: e.Item } : {}),
      ...(e.CancellationReasons ? { reasons: e.CancellationReasons } : {}),
    };
  }
}

/** Runs `scenario` once per client, each in its own partition, and returns both records with the partition names unified. */
async function both(scenario: (send: Send, pk: string) => Promise<unknown[]>) {
  const id = Math.random().toString(36).slice(2, 8);
  const sdkPk = `P#sdk-${id}`;
  const oursPk = `P#ours-${id}`;
  const a = await scenario(viaSdk, sdkPk);
  const b = await scenario(viaOurs, oursPk);
  return { sdk: unify(a, sdkPk), ours: unify(b, oursPk) };
}

function unify(value: unknown, pk: string): unknown {
  if (typeof value === 'string') return value.replaceAll(pk, 'P#');
  if (Array.isArray(value)) return value.map((v) => unify(v, pk));
  if (value && typeof value === 'object' && value.constructor === Object)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unify(v, pk)]));
  return value;
}

const everyType = {
  text: 'héllo, 世界',
  empty: '',
  int: 42,
  negative: -7,
  fraction: 0.1 + 0.2,
  safe: Number.MAX_SAFE_INTEGER,
  unsafeMin: Number.MIN_SAFE_INTEGER,
  tiny: 1e-100,
  precise: 123456789012.34567,
  negativeTiny: -1e-100,
  yes: true,
  no: false,
  nothing: null,
  gz: new Uint8Array(gzipSync(Buffer.from('{"outbox":[1,2,3]}'))),
  emptyBytes: new Uint8Array(0),
  ids: new Set(['e-1', 'e-2']),
  numbers: new Set([1, 2.5, -3]),
  blobs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
  list: [1, 'two', null, [3, { four: 4 }], new Uint8Array([5])],
  map: { nested: { deeper: { x: 1, s: '', l: [] } }, empty: {} },
  dropped: undefined,
};

describe('DynamoDocumentClient against lib-dynamodb on DynamoDB Local', () => {
  it('stores and reads every attribute type the same, and each reads what the other wrote', async () => {
    const { sdk, ours: mineRecord } = await both(async (send, pk) => [
      await observe(() =>
        send('PutCommand', { TableName: tables.state, Item: { pk, sk: 'ITEM', ...everyType } }),
      ),
      await observe(() =>
        send('GetCommand', { TableName: tables.state, Key: { pk, sk: 'ITEM' }, ConsistentRead: true }),
      ),
      // Numbers DynamoDB refuses, and one util-dynamodb refuses before sending.
      await observe(() =>
        send('PutCommand', { TableName: tables.state, Item: { pk, sk: 'BAD', n: 5e-324 } }),
      ),
      await observe(() =>
        send('PutCommand', { TableName: tables.state, Item: { pk, sk: 'BAD', n: 2 ** 53 } }),
      ),
    ]);
    expect(mineRecord).toEqual(sdk);
    const read = (sdk as { out?: { Item?: Record<string, unknown> } }[])[1]?.out?.Item;
    const { dropped: _, ...expected } = everyType;
    expect(read).toEqual({ pk: 'P#', sk: 'ITEM', ...expected });
    // Cross-reads: the item the SDK wrote, read by ours, and the other way round.
    const item = { pk: 'P#cross', sk: 'ITEM', ...everyType };
    await theirs.send(new lib.PutCommand({ TableName: tables.state, Item: item }));
    const got = await mine.send(
      new ours.GetCommand({ TableName: tables.state, Key: { pk: 'P#cross', sk: 'ITEM' } }),
    );
    await mine.send(new ours.PutCommand({ TableName: tables.state, Item: { ...item, sk: 'ITEM2' } }));
    const back = await theirs.send(
      new lib.GetCommand({ TableName: tables.state, Key: { pk: 'P#cross', sk: 'ITEM2' } }),
    );
    expect(got.Item).toEqual({ ...expected, pk: 'P#cross', sk: 'ITEM' });
    expect(back.Item).toEqual({ ...expected, pk: 'P#cross', sk: 'ITEM2' });
  });

  it('refuses a failed condition the same, with the item found; updates and deletes return the same values', async () => {
    const { sdk, ours: mineRecord } = await both(async (send, pk) => {
      const key = { pk, sk: 'COND' };
      return [
        await observe(() =>
          send('PutCommand', { TableName: tables.state, Item: { ...key, v: 1, gz: new Uint8Array([9]) } }),
        ),
        await observe(() =>
          send('PutCommand', {
            TableName: tables.state,
            Item: { ...key, v: 2 },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        await observe(() =>
          send('UpdateCommand', {
            TableName: tables.state,
            Key: key,
            UpdateExpression: 'SET v = v + :one, m.inner = :m ADD ids :ids',
            ConditionExpression: 'v = :v',
            ExpressionAttributeValues: {
              ':one': 1,
              ':v': 1,
              ':m': { a: [1, 'b'] },
              ':ids': new Set(['x', 'y']),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
        await observe(() =>
          send('UpdateCommand', {
            TableName: tables.state,
            Key: key,
            UpdateExpression: 'SET v = :nine',
            ConditionExpression: 'v = :old',
            ExpressionAttributeValues: { ':nine': 9, ':old': 1 },
          }),
        ),
        await observe(() =>
          send('DeleteCommand', { TableName: tables.state, Key: key, ReturnValues: 'ALL_OLD' }),
        ),
        await observe(() => send('GetCommand', { TableName: tables.state, Key: key, ConsistentRead: true })),
      ];
    });
    expect(mineRecord).toEqual(sdk);
    expect((sdk as { error?: string }[])[1]?.error).toBe('ConditionalCheckFailedException');
  });

  it.runIf(inject('dynamoKind') === 'dynamodb-local')(
    'cancels a transaction the same, with one reason per item',
    async () => {
      expect(transactions).toBe(true);
      const { sdk, ours: mineRecord } = await both(async (send, pk) => {
        await send('PutCommand', { TableName: tables.state, Item: { pk, sk: 'TX-EXISTS', n: 1 } });
        const items = (condition: string) => [
          { Put: { TableName: tables.state, Item: { pk, sk: 'TX-NEW', gz: new Uint8Array([1, 2]) } } },
          {
            ConditionCheck: {
              TableName: tables.state,
              Key: { pk, sk: 'TX-EXISTS' },
              ConditionExpression: condition,
              ExpressionAttributeValues: { ':n': 1 },
            },
          },
          {
            Update: {
              TableName: tables.state,
              Key: { pk, sk: 'TX-EXISTS' },
              UpdateExpression: 'SET m = :n',
              ExpressionAttributeValues: { ':n': 1 },
            },
          },
        ];
        return [
          await observe(() =>
            send('TransactWriteCommand', {
              TransactItems: [
                items('n <> :n')[0],
                {
                  ConditionCheck: {
                    ...items('n <> :n')[1]?.ConditionCheck,
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                },
              ],
            }),
          ),
          await observe(() => send('GetCommand', { TableName: tables.state, Key: { pk, sk: 'TX-NEW' } })),
          await observe(() =>
            send('TransactWriteCommand', { TransactItems: items('n = :n').filter((_, i) => i !== 2) }),
          ),
          await observe(() => send('GetCommand', { TableName: tables.state, Key: { pk, sk: 'TX-NEW' } })),
        ];
      });
      expect(mineRecord).toEqual(sdk);
      expect((sdk as { error?: string; reasons?: { Code?: string }[] }[])[0]).toMatchObject({
        error: 'TransactionCanceledException',
        reasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      });
    },
  );

  it('pages a query and a scan the same, each continuing from the other key, and batch-gets the same', async () => {
    const { sdk, ours: mineRecord } = await both(async (send, pk) => {
      for (let i = 0; i < 23; i++)
        await send('PutCommand', {
          TableName: tables.state,
          Item: { pk, sk: `PAGE#${String(i).padStart(2, '0')}`, i, b: new Uint8Array([i]) },
        });
      const pages: unknown[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = (await send('QueryCommand', {
          TableName: tables.state,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          FilterExpression: 'i <> :skip',
          ExpressionAttributeValues: { ':pk': pk, ':p': 'PAGE#', ':skip': 4 },
          Limit: 5,
          ...(start ? { ExclusiveStartKey: start } : {}),
        })) as { LastEvaluatedKey?: Record<string, unknown> };
        pages.push(page);
        start = page.LastEvaluatedKey;
      } while (start);
      // ScannedCount is left out: the table holds the other client's items too.
      const scanned = await observe(async () => {
        const { ScannedCount: _, ...page } = (await send('ScanCommand', {
          TableName: tables.state,
          FilterExpression: 'pk = :pk AND i >= :min',
          ExpressionAttributeValues: { ':pk': pk, ':min': 20 },
          ConsistentRead: true,
        })) as Record<string, unknown>;
        return page;
      });
      const batch = (await send('BatchGetCommand', {
        RequestItems: {
          [tables.state]: {
            Keys: [
              { pk, sk: 'PAGE#03' },
              { pk, sk: 'PAGE#17' },
              { pk, sk: 'MISSING' },
            ],
            ConsistentRead: true,
          },
        },
      })) as { Responses?: Record<string, { sk: string }[]>; UnprocessedKeys?: unknown };
      batch.Responses?.[tables.state]?.sort((x, y) => x.sk.localeCompare(y.sk));
      return [pages, scanned, batch];
    });
    expect(mineRecord).toEqual(sdk);
    const pages = (sdk as unknown[][])[0] as { Items: unknown[] }[];
    expect(pages.reduce((n, p) => n + p.Items.length, 0)).toBe(22);
    // A page key from one client continues the other's query.
    const first = await theirs.send(
      new lib.QueryCommand({
        TableName: tables.state,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'P#cross' },
        Limit: 1,
      }),
    );
    const next = await mine.send(
      new ours.QueryCommand({
        TableName: tables.state,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'P#cross' },
        ExclusiveStartKey: first.LastEvaluatedKey,
      }),
    );
    expect(next.Items?.map((i) => i.sk)).toEqual(['ITEM2']);
  });
});
