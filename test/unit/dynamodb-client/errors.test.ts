import * as sdk from '@aws-sdk/client-dynamodb';
import * as lib from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '#lib/adapters/aws-json.js';
import { PutCommand, TransactWriteCommand } from '#lib/adapters/dynamodb/client/commands.js';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '#lib/adapters/dynamodb/client/errors.js';
import { stubbedClients } from './stub-dynamodb.js';

/**
 * DynamoDB's error documents, answered by a loopback stub to both our client and the SDK's: the stores'
 * `instanceof` and `error.name` checks must read them as they read the SDK's errors.
 */

const clients = stubbedClients();
const NS = 'com.amazonaws.dynamodb.v20120810#';

const put = { TableName: 't', Item: { pk: 'k' }, ConditionExpression: 'attribute_not_exists(pk)' };
const transact = { TransactItems: [{ Put: put }, { Put: { ...put, Item: { pk: 'j' } } }] };

async function failure(send: () => Promise<unknown>): Promise<Error> {
  try {
    await send();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('DynamoDocumentClient errors', () => {
  it('reads a refused condition as ConditionalCheckFailedException, with the item found in the low-level form', async () => {
    clients.stub.answer(400, {
      __type: `${NS}ConditionalCheckFailedException`,
      message: 'The conditional request failed',
      Item: { pk: { S: 'k' }, gz: { B: 'H4sI' }, n: { N: '7' }, ids: { SS: ['a', 'b'] } },
    });
    const a = (await failure(() =>
      clients.theirs.send(new lib.PutCommand(put)),
    )) as sdk.ConditionalCheckFailedException;
    const b = await failure(() => clients.mine.send(new PutCommand(put)));
    expect(a).toBeInstanceOf(sdk.ConditionalCheckFailedException);
    expect(b).toBeInstanceOf(ConditionalCheckFailedException);
    expect(b).toBeInstanceOf(AwsServiceError);
    const c = b as ConditionalCheckFailedException;
    expect([c.name, c.message, c.Item, c.$fault]).toEqual([a.name, a.message, a.Item, a.$fault]);
    expect(c.Item?.gz?.B).toEqual(new Uint8Array([0x1f, 0x8b, 0x08]));
    expect([c.status, c.requestId]).toEqual([400, `req-${clients.stub.requests.length}`]);
  });

  it('reads a cancelled transaction as TransactionCanceledException, with one reason per item in order', async () => {
    clients.stub.answer(400, {
      __type: `${NS}TransactionCanceledException`,
      Message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
      CancellationReasons: [
        { Code: 'None' },
        {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          Item: { pk: { S: 'j' } },
        },
      ],
    });
    const a = (await failure(() =>
      clients.theirs.send(new lib.TransactWriteCommand(transact)),
    )) as sdk.TransactionCanceledException;
    const b = await failure(() => clients.mine.send(new TransactWriteCommand(transact)));
    expect(a).toBeInstanceOf(sdk.TransactionCanceledException);
    expect(b).toBeInstanceOf(TransactionCanceledException);
    const c = b as TransactionCanceledException;
    expect([c.name, c.message, c.CancellationReasons]).toEqual([a.name, a.message, a.CancellationReasons]);
    expect(c.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
  });

  it('names every other error by its code, as the SDK does (ValidationException, ResourceNotFoundException, throttling)', async () => {
    for (const [code, status] of [
      ['ValidationException', 400],
      ['ResourceNotFoundException', 400],
      ['ProvisionedThroughputExceededException', 400],
      ['InternalServerError', 500],
    ] as const) {
      clients.stub.answer(status, { __type: `${NS}${code}`, message: `${code} happened` });
      const a = await failure(() => clients.theirs.send(new lib.PutCommand(put)));
      const b = await failure(() => clients.mine.send(new PutCommand(put)));
      expect(b).toBeInstanceOf(AwsServiceError);
      expect(b).not.toBeInstanceOf(ConditionalCheckFailedException);
      expect([b.name, b.message, (b as AwsServiceError).$fault]).toEqual([
        a.name,
        a.message,
        (a as sdk.DynamoDBServiceException).$fault,
      ]);
    }
  });
});
