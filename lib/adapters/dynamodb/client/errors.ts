import type { AttributeValue, CancellationReason } from '@aws-sdk/client-dynamodb';
import { AwsServiceError, type ServiceFault } from '#lib/adapters/aws-json.js';
import { decodeMap, type WireAttributeValue } from './attribute-values.js';

/**
 * DynamoDB's refusals the stores tell apart, with the SDK's names and fields so `instanceof` and
 * `error.name` checks read as before. Every other error code is an `AwsServiceError` whose `name` is the
 * code (`ValidationException`, `ResourceNotFoundException`, ...). As in the SDK, the items an error
 * carries are in the low-level form (`{S: 'x'}`, binary as `Uint8Array`): lib-dynamodb never unmarshalled
 * them either.
 */

/** A write's condition failed; `Item` is the item found, when the request asked for it (ReturnValuesOnConditionCheckFailure). */
export class ConditionalCheckFailedException extends AwsServiceError {
  readonly Item?: Record<string, AttributeValue>;

  constructor(fault: ServiceFault, options?: ErrorOptions) {
    super(fault, options);
    const item = fault.fields.Item;
    if (isMap(item)) this.Item = decodeMap(item as Record<string, WireAttributeValue>);
  }
}

/** A transaction was cancelled; `CancellationReasons` has one entry per item, in request order (`Code: 'None'` for the ones that passed). */
export class TransactionCanceledException extends AwsServiceError {
  readonly CancellationReasons?: CancellationReason[];

  constructor(fault: ServiceFault, options?: ErrorOptions) {
    super(fault, options);
    const reasons = fault.fields.CancellationReasons;
    if (Array.isArray(reasons))
      this.CancellationReasons = reasons.map((r: Record<string, unknown>) => ({
        ...(typeof r.Code === 'string' ? { Code: r.Code } : {}),
        ...(typeof r.Message === 'string' ? { Message: r.Message } : {}),
        ...(isMap(r.Item) ? { Item: decodeMap(r.Item as Record<string, WireAttributeValue>) } : {}),
      }));
  }
}

/** The error class for a DynamoDB error document (aws-json's `errorFor`). */
export function dynamoErrorFor(fault: ServiceFault): AwsServiceError {
  switch (fault.code) {
    case 'ConditionalCheckFailedException':
      return new ConditionalCheckFailedException(fault);
    case 'TransactionCanceledException':
      return new TransactionCanceledException(fault);
    default:
      return new AwsServiceError(fault);
  }
}

function isMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
