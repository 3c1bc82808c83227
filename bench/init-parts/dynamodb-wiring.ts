import { loadConfig } from '#lib/config.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';

/** The configuration and the DynamoDB client over aws-json (so `https` too), as a function's root wires them. */
export const dynamo = wireDynamoDb(loadConfig());
