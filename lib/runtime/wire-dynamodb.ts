import { environmentCredentials } from '#lib/adapters/aws-signing.js';
import {
  type DynamoDocumentClient,
  dynamoDocumentClient,
} from '#lib/adapters/dynamodb/client/document-client.js';
import { tracedDynamoCalls } from '#lib/adapters/dynamodb/client/tracing.js';
import type { EngineConfig } from '#lib/config.js';
import { withTracer } from '#lib/observability.js';

/**
 * The functions' DynamoDB document client: the region and credentials Lambda puts in the environment
 * (read on every attempt: they rotate), DynamoDB Local's endpoint in local runs, and where tracing is on
 * a subsegment per call.
 */
export function wireDynamoDb(config: EngineConfig): DynamoDocumentClient {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const doc = dynamoDocumentClient({
    region,
    credentials: () => environmentCredentials(),
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
  withTracer((tracer) => doc.use(tracedDynamoCalls(tracer, region)));
  return doc;
}
