import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { dynamoDocumentClient } from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbRuleSetStore } from '#lib/adapters/dynamodb/ruleset-store.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import { LiveRuleSets } from '#lib/rulesets/live-rule-sets.js';
import { RuleSetPublisher } from '#lib/rulesets/publish.js';
import type { RuleSetStore } from '#lib/rulesets/store.js';
import { OpsCliError } from '../ops/signed-client.js';
import { findEndpointsFile, openStack, stackDocumentClient, type TargetFlags } from '../ops/targets.js';

/**
 * Where `rules publish|approve|reject|history` go: the local runtime the ops CLI finds (its
 * `.local/endpoints.json`, from any subfolder), or a deployed stack with `--stack NAME`, whose state
 * table the caller writes under the `rules-publish` policy (RULESET# keys only).
 */
export interface RuleSetTarget {
  description: string;
  actor: string;
  store: RuleSetStore;
  publisher: RuleSetPublisher;
  /** Resolves a world's rule set as the functions do (store, bundled, defaults). */
  live: LiveRuleSets;
  close(): void;
}

const AUDIT_RETENTION_DAYS = 2555;

export async function openRuleSetTarget(
  flags: TargetFlags,
  bundledDir: string | undefined,
): Promise<RuleSetTarget> {
  return flags.stack
    ? openAws(flags.stack, flags.region, bundledDir)
    : openLocal(flags.endpoints, bundledDir);
}

function build(
  description: string,
  actor: string,
  store: RuleSetStore,
  bundledDir: string,
  close: () => void,
): RuleSetTarget {
  const live = new LiveRuleSets(store, loadRuleSetDirectory(bundledDir), { ttlMs: 0, clock: Date.now });
  return {
    description,
    actor,
    store,
    live,
    publisher: new RuleSetPublisher({ store, bundled: live, auditRetentionDays: AUDIT_RETENTION_DAYS }),
    close,
  };
}

async function openLocal(given: string | undefined, bundledDir: string | undefined): Promise<RuleSetTarget> {
  const file = given ?? process.env.EXIT_ENGINE_ENDPOINTS ?? findEndpointsFile(process.cwd());
  let env: Record<string, unknown>;
  try {
    env = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new OpsCliError(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `no local runtime: ${file} not found. Start one with 'npm start -- --keep-running' (or target AWS with --stack NAME)`
        : `${file} is not valid JSON (${(error as Error).message}); restart 'npm start -- --keep-running' to rewrite it`,
      { cause: error },
    );
  }
  const absent = ['DYNAMODB_ENDPOINT', 'STATE_TABLE_NAME', 'AUDIT_TABLE_NAME'].filter(
    (k) => typeof env[k] !== 'string',
  );
  if (absent.length > 0)
    throw new OpsCliError(`${file} lacks ${absent.join(', ')}; restart 'npm start -- --keep-running'`);
  if (typeof env.pid === 'number') {
    try {
      process.kill(env.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH')
        throw new OpsCliError(
          `the local runtime in ${file} is not answering (process ${env.pid} has ended); start it again with 'npm start -- --keep-running'`,
        );
    }
  }
  const dynamo = dynamoDocumentClient({
    endpoint: String(env.DYNAMODB_ENDPOINT),
    region: typeof env.AWS_REGION === 'string' ? env.AWS_REGION : 'us-east-1',
    credentials: () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    maxAttempts: 1,
  });
  const store = new DynamoDbRuleSetStore(
    dynamo,
    { state: String(env.STATE_TABLE_NAME), audit: String(env.AUDIT_TABLE_NAME) },
    env.EXIT_ENGINE_DYNAMODB_TRANSACTIONS !== 'false',
  );
  // The runtime's bundled sets (the "before" of a first publish), found from its project as the ops CLI does.
  const path = bundledDir ?? (typeof env.RULESETS_PATH === 'string' ? env.RULESETS_PATH : 'rulesets');
  const dir = isAbsolute(path) || existsSync(path) ? path : resolve(dirname(dirname(resolve(file))), path);
  return build(
    `local runtime (${String(env.DYNAMODB_ENDPOINT)})`,
    `local:${userInfo().username}`,
    store,
    dir,
    () => undefined,
  );
}

async function openAws(
  stack: string,
  region: string | undefined,
  bundledDir: string | undefined,
): Promise<RuleSetTarget> {
  const opened = await openStack(stack, region);
  const { actor, outputs } = opened;
  if (!outputs.StateTableName || !outputs.AuditTableName)
    throw new OpsCliError(
      `stack ${stack} has no StateTableName/AuditTableName output; is it the exit engine?`,
    );
  const store = new DynamoDbRuleSetStore(stackDocumentClient(opened), {
    state: outputs.StateTableName,
    audit: outputs.AuditTableName,
  });
  // The deployed functions bundle this checkout's rule sets (cdk deploy): the same folder is the fallback.
  return build(`stack ${stack}`, actor, store, bundledDir ?? 'rulesets', () => undefined);
}
