import type { DynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { tracedDynamoCalls } from '#lib/adapters/dynamodb/client/tracing.js';
import { tracingReady, withTracer } from '#lib/observability.js';
import { functionRegion } from './wire-dynamodb.js';

/** What a function's tracing instruments beyond HTTP(S): its DynamoDB document client, if it has one. */
export interface TracedClients {
  dynamo?: DynamoDocumentClient;
}

/**
 * A function's tracing, wired by its composition root before the first invocation. Where tracing is on
 * (Lambda, see `tracingEnabled`), loads Powertools' Tracer, whose construction patches http(s) so every AWS
 * call is an HTTP subsegment, and puts a `DynamoDB` subsegment around each call of `clients.dynamo`.
 * Resolves once that is in place; at once, loading nothing, where tracing is off (local runs, tests).
 */
export async function wireTracing(
  clients: TracedClients = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  withTracer((tracer) => clients.dynamo?.use(tracedDynamoCalls(tracer, functionRegion(env))), env);
  return tracingReady();
}
