import { randomUUID } from 'node:crypto';
import {
  type AwsJsonCallOptions,
  type AwsJsonClient,
  type AwsJsonClientOptions,
  type AwsJsonProtocol,
  awsJsonClient,
} from '#lib/adapters/aws-json.js';
import { fromWireValue, toWireValue } from './attribute-values.js';
import { ATTRIBUTE_FIELDS, type DocumentCommand, type DynamoOperation } from './commands.js';
import { dynamoErrorFor } from './errors.js';
import { convertFields } from './key-nodes.js';

/** DynamoDB's JSON protocol (awsJson1_0, target prefix `DynamoDB_20120810`). */
export const DYNAMODB_PROTOCOL: AwsJsonProtocol = {
  signingName: 'dynamodb',
  endpointPrefix: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
};

/** One call as middleware sees it: the operation and its input in document form (plain JS values). */
export interface DocumentCall {
  operation: DynamoOperation;
  input: Record<string, unknown>;
  options?: AwsJsonCallOptions;
}

/** Sends one call; resolves its output in document form. */
export type DocumentSend = (call: DocumentCall) => Promise<Record<string, unknown>>;

/**
 * Wraps every later call of a client (the last added runs first): what tracing, the write-units
 * bench's capacity meter and tests' fault injection hook into, as the SDK's middleware stack was.
 */
export type DocumentMiddleware = (next: DocumentSend) => DocumentSend;

/**
 * The stores' DynamoDB document client: lib-dynamodb's commands and shapes (plain JS values in and out,
 * undefined dropped, numbers as JS numbers) over aws-json (one SigV4-signed HTTPS request per attempt, the
 * SDK's standard retries, error documents into named errors) instead of the SDK's client, whose core was
 * most of a cold start's bundle and init.
 */
export class DynamoDocumentClient {
  private sendCall: DocumentSend;

  constructor(json: AwsJsonClient) {
    this.sendCall = async ({ operation, input, options }) => {
      const fields = ATTRIBUTE_FIELDS[operation];
      const wire = convertFields(input, fields.input, toWireValue);
      // The SDK fills a transaction's idempotency token when the caller gives none; aws-json sends the one
      // body on every attempt, so a retry of a transaction that was applied (its answer lost) succeeds
      // again instead of failing its own conditions.
      if (operation === 'TransactWriteItems' && wire.ClientRequestToken === undefined)
        wire.ClientRequestToken = randomUUID();
      const out = await json.call<Record<string, unknown>>(operation, wire, options);
      return convertFields(out, fields.output, fromWireValue);
    };
  }

  /** One command: its attribute values marshalled, sent, the answer's unmarshalled. */
  async send<I extends object, O extends object>(
    command: DocumentCommand<I, O>,
    options?: AwsJsonCallOptions,
  ): Promise<O> {
    const call: DocumentCall = {
      operation: command.operation,
      input: command.input as Record<string, unknown>,
    };
    return (await this.sendCall(options ? { ...call, options } : call)) as O;
  }

  /** Puts `middleware` around every later call. */
  use(middleware: DocumentMiddleware): this {
    this.sendCall = middleware(this.sendCall);
    return this;
  }
}

export interface DynamoDocumentClientOptions extends Omit<AwsJsonClientOptions, 'errorFor'> {}

/** A document client for DynamoDB in `region` (or at `endpoint`: DynamoDB Local, dynalite). */
export function dynamoDocumentClient(options: DynamoDocumentClientOptions): DynamoDocumentClient {
  return new DynamoDocumentClient(awsJsonClient(DYNAMODB_PROTOCOL, { ...options, errorFor: dynamoErrorFor }));
}
