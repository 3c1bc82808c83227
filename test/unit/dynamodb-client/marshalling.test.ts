import * as lib from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ours from '#lib/adapters/dynamodb/client/commands.js';
import { stubbedClients } from './stub-dynamodb.js';

/**
 * Our document client against lib-dynamodb's, on the same loopback stub (stub-dynamodb.ts): for random
 * documents — every attribute type, binary, string and number sets, nested maps and lists, empty strings,
 * undefined fields, numbers at and past the precision limits — each sends the same JSON body (or fails
 * with the same message), and each reads the same answer into the same values. The reference is the SDK
 * itself (util-dynamodb's marshall, lib-dynamodb's key nodes, the SDK's JSON serializer and deserializer).
 */

const clients = stubbedClients();

const scalar = fc.oneof(
  fc.string(),
  fc.constant(''),
  fc.maxSafeInteger(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 0.1 + 0.2, 5e-324, -0),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 24 }),
  fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }).map((a) => new Set(a)),
  fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 4 }).map((a) => new Set(a)),
  fc.constant(undefined),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
}));
const item = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 6 });

/** What a send did: the body that reached the stub and the value it resolved to, or the error's message. */
async function outcome(
  send: () => Promise<object>,
): Promise<{ body?: unknown; out?: unknown; error?: string }> {
  const before = clients.stub.requests.length;
  try {
    const { $metadata: _, ...out } = (await send()) as { $metadata?: unknown };
    return { body: clients.stub.requests[before]?.body, out };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('DynamoDocumentClient marshalling, against lib-dynamodb', () => {
  it('sends the same PutItem body (item, condition values) or refuses with the same message', async () => {
    await fc.assert(
      fc.asyncProperty(item, value, async (doc, conditionValue) => {
        clients.stub.answer(200, {});
        const input = {
          TableName: 't',
          Item: { pk: 'k', ...doc },
          ConditionExpression: 'attribute_not_exists(pk) OR #a = :v',
          ExpressionAttributeNames: { '#a': 'a' },
          ExpressionAttributeValues: { ':v': conditionValue },
        };
        const a = await outcome(() => clients.theirs.send(new lib.PutCommand(input)));
        const b = await outcome(() => clients.mine.send(new ours.PutCommand(input)));
        expect(b).toEqual(a);
      }),
      { numRuns: 150 },
    );
  });

  it('reads the same GetItem and Query answers (binary, sets, nested values, numbers as JS numbers)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 3 }), async (docs) => {
        // The wire form of each document, as the SDK serializes it.
        const wire: unknown[] = [];
        for (const doc of docs) {
          clients.stub.answer(200, {});
          const sent = await outcome(() =>
            clients.theirs.send(new lib.PutCommand({ TableName: 't', Item: { pk: 'k', ...doc } })),
          );
          if (sent.error) return;
          wire.push((sent.body as { Item: unknown }).Item);
        }
        clients.stub.answer(200, { Item: wire[0] });
        const key = { TableName: 't', Key: { pk: 'k' } };
        expect(await outcome(() => clients.mine.send(new ours.GetCommand(key)))).toEqual(
          await outcome(() => clients.theirs.send(new lib.GetCommand(key))),
        );
        clients.stub.answer(200, {
          Items: wire,
          Count: wire.length,
          ScannedCount: wire.length,
          LastEvaluatedKey: { pk: { S: 'k' } },
        });
        const query = {
          TableName: 't',
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'k' },
          ExclusiveStartKey: { pk: 'j', n: 1 },
        };
        expect(await outcome(() => clients.mine.send(new ours.QueryCommand(query)))).toEqual(
          await outcome(() => clients.theirs.send(new lib.QueryCommand(query))),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('sends the same TransactWriteItems body and reads the same BatchGetItem answer', async () => {
    await fc.assert(
      fc.asyncProperty(item, item, value, async (a, b, v) => {
        clients.stub.answer(200, {});
        const transact = {
          TransactItems: [
            {
              Put: {
                TableName: 't',
                Item: { pk: '1', ...a },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: 't',
                Key: { pk: '2', sk: 2 },
                UpdateExpression: 'SET #v = :v ADD ids :ids',
                ExpressionAttributeNames: { '#v': 'v' },
                ExpressionAttributeValues: { ':v': v, ':ids': new Set(['x']) },
              },
            },
            {
              ConditionCheck: {
                TableName: 't',
                Key: { pk: '3' },
                ConditionExpression: 'x = :x',
                ExpressionAttributeValues: { ':x': b },
              },
            },
            { Delete: { TableName: 'u', Key: { pk: new Uint8Array([1, 2]) } } },
          ],
        };
        // Each fills the idempotency token a retry repeats, a fresh UUID per transaction.
        const token = (o: { body?: unknown; out?: unknown; error?: string }) => {
          const { ClientRequestToken, ...rest } = (o.body ?? {}) as { ClientRequestToken?: string };
          return { token: ClientRequestToken, o: { ...o, body: rest } };
        };
        const t = token(await outcome(() => clients.theirs.send(new lib.TransactWriteCommand(transact))));
        const m = token(await outcome(() => clients.mine.send(new ours.TransactWriteCommand(transact))));
        expect(m.o).toEqual(t.o);
        if (!t.o.error) {
          expect(m.token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(m.token).not.toBe(t.token);
        }
        const batch = {
          RequestItems: { t: { Keys: [{ pk: '1' }, { pk: '2', sk: 2 }], ConsistentRead: true } },
        };
        const sent = await outcome(() =>
          clients.theirs.send(new lib.PutCommand({ TableName: 't', Item: { pk: '1', ...a } })),
        );
        if (sent.error) return;
        const wireItem = (sent.body as { Item: unknown }).Item;
        clients.stub.answer(200, {
          Responses: { t: [wireItem], u: [] },
          UnprocessedKeys: { t: { Keys: [{ pk: { S: '2' }, sk: { N: '2' } }], ConsistentRead: true } },
        });
        expect(await outcome(() => clients.mine.send(new ours.BatchGetCommand(batch)))).toEqual(
          await outcome(() => clients.theirs.send(new lib.BatchGetCommand(batch))),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('keeps fields that hold no attribute values as they are (names, limits, return options)', async () => {
    clients.stub.answer(200, {
      Attributes: { n: { N: '12345678901234.5' }, b: { B: 'AAEC' } },
      ConsumedCapacity: { TableName: 't', CapacityUnits: 1 },
    });
    const input = {
      TableName: 't',
      Key: { pk: 'k' },
      UpdateExpression: 'SET #n = :n',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':n': 12345678901234.5 },
      ReturnValues: 'ALL_NEW' as const,
      ReturnConsumedCapacity: 'TOTAL' as const,
    };
    const a = await outcome(() => clients.theirs.send(new lib.UpdateCommand(input)));
    const b = await outcome(() => clients.mine.send(new ours.UpdateCommand(input)));
    expect(b).toEqual(a);
    expect(b.out).toEqual({
      Attributes: { n: 12345678901234.5, b: new Uint8Array([0, 1, 2]) },
      ConsumedCapacity: { TableName: 't', CapacityUnits: 1 },
    });
  });
});
