import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { ALL_VALUES, type KeyNodes, SELF } from './key-nodes.js';

/**
 * The document commands the stores send, with lib-dynamodb's names and exactly its input and output
 * shapes (its types, imported as types only: no SDK code is bundled). Each names its DynamoDB operation;
 * `ATTRIBUTE_FIELDS` says which of its fields hold attribute values.
 */

/** What a command resolves to: lib-dynamodb's output without the SDK's response `$metadata`. */
type Out<T> = Omit<T, '$metadata'>;

/** The DynamoDB operations this client sends. */
export type DynamoOperation =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Query'
  | 'Scan'
  | 'BatchGetItem'
  | 'TransactWriteItems';

export abstract class DocumentCommand<Input extends object, Output extends object> {
  abstract readonly operation: DynamoOperation;
  /** Never set: carries the output type for `send`. */
  declare readonly output?: Output;

  constructor(readonly input: Input) {}
}

export class GetCommand extends DocumentCommand<GetCommandInput, Out<GetCommandOutput>> {
  readonly operation = 'GetItem';
}

export class PutCommand extends DocumentCommand<PutCommandInput, Out<PutCommandOutput>> {
  readonly operation = 'PutItem';
}

export class UpdateCommand extends DocumentCommand<UpdateCommandInput, Out<UpdateCommandOutput>> {
  readonly operation = 'UpdateItem';
}

export class DeleteCommand extends DocumentCommand<DeleteCommandInput, Out<DeleteCommandOutput>> {
  readonly operation = 'DeleteItem';
}

export class QueryCommand extends DocumentCommand<QueryCommandInput, Out<QueryCommandOutput>> {
  readonly operation = 'Query';
}

export class ScanCommand extends DocumentCommand<ScanCommandInput, Out<ScanCommandOutput>> {
  readonly operation = 'Scan';
}

export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, Out<BatchGetCommandOutput>> {
  readonly operation = 'BatchGetItem';
}

export class TransactWriteCommand extends DocumentCommand<
  TransactWriteCommandInput,
  Out<TransactWriteCommandOutput>
> {
  readonly operation = 'TransactWriteItems';
}

const EXPECTED = { '*': { Value: SELF, AttributeValueList: ALL_VALUES } };
const WRITE_OUTPUT = { Attributes: ALL_VALUES, ItemCollectionMetrics: { ItemCollectionKey: ALL_VALUES } };
const PAGE_OUTPUT = { Items: { '*': ALL_VALUES }, LastEvaluatedKey: ALL_VALUES };
const CONDITIONS = { '*': { AttributeValueList: ALL_VALUES } };

/**
 * Per operation, the input fields marshalled and the output fields unmarshalled: lib-dynamodb's
 * `inputKeyNodes` / `outputKeyNodes` of the command of the same name (3.1169), legacy parameters included.
 */
export const ATTRIBUTE_FIELDS: Record<DynamoOperation, { input: KeyNodes; output: KeyNodes }> = {
  GetItem: { input: { Key: ALL_VALUES }, output: { Item: ALL_VALUES } },
  PutItem: {
    input: { Item: ALL_VALUES, Expected: EXPECTED, ExpressionAttributeValues: ALL_VALUES },
    output: WRITE_OUTPUT,
  },
  UpdateItem: {
    input: {
      Key: ALL_VALUES,
      AttributeUpdates: { '*': { Value: SELF } },
      Expected: EXPECTED,
      ExpressionAttributeValues: ALL_VALUES,
    },
    output: WRITE_OUTPUT,
  },
  DeleteItem: {
    input: { Key: ALL_VALUES, Expected: EXPECTED, ExpressionAttributeValues: ALL_VALUES },
    output: WRITE_OUTPUT,
  },
  Query: {
    input: {
      KeyConditions: CONDITIONS,
      QueryFilter: CONDITIONS,
      ExclusiveStartKey: ALL_VALUES,
      ExpressionAttributeValues: ALL_VALUES,
    },
    output: PAGE_OUTPUT,
  },
  Scan: {
    input: { ScanFilter: CONDITIONS, ExclusiveStartKey: ALL_VALUES, ExpressionAttributeValues: ALL_VALUES },
    output: PAGE_OUTPUT,
  },
  BatchGetItem: {
    input: { RequestItems: { '*': { Keys: { '*': ALL_VALUES } } } },
    output: {
      Responses: { '*': { '*': ALL_VALUES } },
      UnprocessedKeys: { '*': { Keys: { '*': ALL_VALUES } } },
    },
  },
  TransactWriteItems: {
    input: {
      TransactItems: {
        '*': {
          ConditionCheck: { Key: ALL_VALUES, ExpressionAttributeValues: ALL_VALUES },
          Put: { Item: ALL_VALUES, ExpressionAttributeValues: ALL_VALUES },
          Delete: { Key: ALL_VALUES, ExpressionAttributeValues: ALL_VALUES },
          Update: { Key: ALL_VALUES, ExpressionAttributeValues: ALL_VALUES },
        },
      },
    },
    output: { ItemCollectionMetrics: { '*': { '*': { ItemCollectionKey: ALL_VALUES } } } },
  },
};
