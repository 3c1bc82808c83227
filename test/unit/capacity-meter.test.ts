import { describe, expect, it } from 'vitest';
import { PutCommand } from '#lib/adapters/dynamodb/client/commands.js';
import {
  breakdown,
  itemKind,
  itemSizeBytes,
  meterClient,
  totals,
  writeUnitsFor,
} from '../../bench/capacity-meter.js';
import { startStubDynamoDb, stubClient } from './dynamodb-client/stub-dynamodb.js';

/** The write-units bench's arithmetic, against DynamoDB's billing rules (read-write-operations docs). */
describe('capacity meter', () => {
  it('bills 1 WCU per started KB, at least 1, doubled in a transaction', () => {
    expect(writeUnitsFor(0)).toBe(1);
    expect(writeUnitsFor(1024)).toBe(1);
    expect(writeUnitsFor(1025)).toBe(2);
    expect(writeUnitsFor(22 * 1024)).toBe(22);
    expect(writeUnitsFor(500, true)).toBe(2);
    expect(writeUnitsFor(3000, true)).toBe(6);
  });

  it('sizes items as attribute names plus values, in plain and low-level form', () => {
    expect(itemSizeBytes({ pk: 'WORLD#w1', sk: 'LATEST' })).toBe(2 + 8 + 2 + 6);
    expect(itemSizeBytes({ pk: { S: 'WORLD#w1' }, sk: { S: 'LATEST' } })).toBe(18);
    expect(itemSizeBytes({ body: new Uint8Array(5000) })).toBe(4 + 5000);
    expect(itemSizeBytes({ n: 12345 })).toBe(1 + 4);
    expect(itemSizeBytes({ list: ['ab', 'c'] })).toBe(4 + 3 + (1 + 2) + (1 + 1));
  });

  it('totals writes and reads apart, and says how much of the writes is estimated', () => {
    const entries = [
      { command: 'PutItem', tables: ['state'], units: 9, write: true, estimated: false },
      {
        command: 'TransactWriteItems',
        tables: ['audit', 'state'],
        units: 6,
        write: true,
        estimated: false,
      },
      { command: 'UpdateItem', tables: ['signals'], units: 3, write: true, estimated: true },
      { command: 'GetItem', tables: ['state'], units: 2, write: false, estimated: false },
    ];
    expect(totals(entries)).toEqual({ writeUnits: 18, readUnits: 2, estimatedWriteUnits: 3, writes: 3 });
    expect(breakdown(entries)).toBe(
      'PutItem state: 9 (1×); TransactWriteItems audit+state: 6 (1×); UpdateItem (refused) signals: 3 (1×)',
    );
  });

  it('names the items a write touched by their keys, and says what indexes took of its units', () => {
    expect(itemKind('state', { pk: 'WORLD#w1', sk: 'EVAL#abc' })).toBe('state:EVAL');
    expect(itemKind('state', { pk: { S: 'WORLD#w1' }, sk: { S: 'EVAL#abc#OUTBOX#inv#0000' } })).toBe(
      'state:OUTBOX chunk',
    );
    expect(itemKind('state', { pk: 'MARKET#global', sk: 'LATEST' })).toBe('state:MARKET/LATEST');
    expect(itemKind('state', { pk: 'WORLDS', sk: 'w1' })).toBe('state:WORLDS');
    expect(itemKind('signals', { signal_id: 'sig-1' })).toBe('signals:row');
    expect(itemKind('audit', { world_id: 'w1', record_id: 'r' })).toBe('audit:record');
    const entries = [
      {
        command: 'PutItem',
        tables: ['signals'],
        items: ['signals:row'],
        units: 3,
        indexUnits: 2,
        write: true,
        estimated: false,
      },
      {
        command: 'PutItem',
        tables: ['signals'],
        items: ['signals:row'],
        units: 3,
        indexUnits: 2,
        write: true,
        estimated: false,
      },
    ];
    expect(breakdown(entries)).toBe('PutItem [signals:row]: 6 (2×, 4 of it indexes)');
  });
});

describe('meterClient', () => {
  it('asks every call of the document client for its consumed capacity, and estimates a refused write', async () => {
    const stub = await startStubDynamoDb();
    try {
      const doc = stubClient(stub.endpoint);
      const meter = meterClient(doc);
      const put = { TableName: 'state', Item: { pk: 'WORLD#w', sk: 'EVAL#1', body: 'x' } };
      stub.answer(200, {
        ConsumedCapacity: {
          TableName: 'state',
          CapacityUnits: 5,
          GlobalSecondaryIndexes: { 'by-x': { CapacityUnits: 2 } },
        },
      });
      await doc.send(new PutCommand(put));
      expect(stub.requests.at(-1)?.body).toMatchObject({ ReturnConsumedCapacity: 'INDEXES' });
      stub.answer(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
        Item: { pk: { S: 'WORLD#w' }, sk: { S: 'EVAL#1' }, big: { S: 'y'.repeat(3000) } },
      });
      await expect(
        doc.send(new PutCommand({ ...put, ConditionExpression: 'attribute_not_exists(pk)' })),
      ).rejects.toThrow('The conditional request failed');
      expect(meter.entries).toEqual([
        {
          command: 'PutItem',
          tables: ['state'],
          items: ['state:EVAL'],
          units: 5,
          indexUnits: 2,
          write: true,
          estimated: false,
        },
        {
          command: 'PutItem',
          tables: ['state'],
          items: ['state:EVAL'],
          units: 3,
          write: true,
          estimated: true,
        },
      ]);
    } finally {
      await stub.close();
    }
  });
});
