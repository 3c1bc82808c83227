import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The floor under the snapshot function's module init (bench/pipeline.bench.ts): a function that only
 * builds the DynamoDB client its first call needs, bundled exactly as the functions are. Its init is
 * what the SDK and the Node built-ins it loads cost before any of our code runs.
 */
export const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
