import { environmentCredentials } from '#lib/adapters/aws-signing.js';
import {
  type DynamoDocumentClient,
  dynamoDocumentClient,
} from '#lib/adapters/dynamodb/client/document-client.js';
import type { EngineConfig } from '#lib/config.js';

/**
 * The functions' DynamoDB document client: the region and credentials Lambda puts in the environment
 * (read on every attempt: they rotate), DynamoDB Local's endpoint in local runs. A composition root builds
 * one per process and hands it to every store (wireEngine, wireOps) and to wireTracing; its connections go
 * through the process's one keep-alive agent (lib/adapters/signed-http.ts).
 */
export function wireDynamoDb(config: EngineConfig): DynamoDocumentClient {
  return dynamoDocumentClient({
    region: functionRegion(),
    credentials: () => environmentCredentials(),
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
}

/** The region Lambda puts in the environment (us-east-1 where none is set, as in local runs). */
export function functionRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION ?? 'us-east-1';
}
