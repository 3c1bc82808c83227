import { loadConfig } from '#lib/config.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { wireEngine } from '#lib/runtime/wire.js';
import { wireDynamoDb } from '#lib/runtime/wire-dynamodb.js';

/** functions/evaluate-snapshot.ts without its handler (no snapshot edge schema, no middy middleware). */
const config = loadConfig();
export const engine = new ExitEngine(wireEngine(config, wireDynamoDb(config)));
