import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { ScanCommand } from '#lib/adapters/dynamodb/client/commands.js';
import {
  type DynamoDocumentClient,
  dynamoDocumentClient,
} from '#lib/adapters/dynamodb/client/document-client.js';
import { DynamoDbEngineStore } from '#lib/adapters/dynamodb/engine-store.js';
import { DynamoDbOpsStore } from '#lib/adapters/dynamodb/ops-store.js';
import { DynamoDbRuleSetStore } from '#lib/adapters/dynamodb/ruleset-store.js';
import { eventBridgeClient } from '#lib/adapters/eventbridge/put-events.js';
import { EventBridgeSignalPublisher } from '#lib/adapters/eventbridge/signal-publisher.js';
import { type OpsCommand, runOpsCommand } from '#lib/app/ops-commands.js';
import { catalogFrom, OpsService } from '#lib/engine/ops.js';
import { loadRuleSetDirectory } from '#lib/rules/ruleset-loader.js';
import { LiveRuleSets } from '#lib/rulesets/live-rule-sets.js';
import { ENGINE_VERSION } from '#lib/runtime/wire.js';
import { OpsCliError, SignedOpsClient } from './signed-client.js';

/**
 * Where the ops CLI's commands go: the local runtime (`.local/endpoints.json` from
 * `npm start -- --keep-running`, found from any subfolder) by default, or a deployed stack with
 * `--stack NAME` (reads from the tables, decisions through the signed ops URL).
 */

/** Where `npm start -- --keep-running` writes its endpoints (kept in step with commands/local.ts). */
export const DEFAULT_ENDPOINTS_FILE = '.local/endpoints.json';

/** The flags that pick the target. */
export interface TargetFlags {
  stack?: string;
  region?: string;
  endpoints?: string;
}

/** What a command talks to: reads through the ops service, decisions as the target's actor. */
export interface OpsTarget {
  readonly description: string;
  /** Who the decisions are recorded as (locally `local:<user>`; in AWS the signed caller). */
  readonly actor: string;
  readonly ops: OpsService;
  decide(cmd: OpsCommand): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens the target the flags name: a deployed stack, or the local runtime. */
export async function openTarget(values: TargetFlags): Promise<OpsTarget> {
  return values.stack
    ? openAwsTarget(values.stack, values.region)
    : openLocalTarget(
        values.endpoints ?? process.env.EXIT_ENGINE_ENDPOINTS ?? findEndpointsFile(process.cwd()),
      );
}

/**
 * The local runtime's endpoints file seen from `dir`: the nearest `.local/endpoints.json` walking
 * up, stopping at the repository or package root (a folder with `.git` or `package.json`), so the
 * CLI finds the runtime from any subfolder. When none exists, the path at the root (for the message).
 */
export function findEndpointsFile(dir: string): string {
  let current = resolve(dir);
  for (;;) {
    const candidate = join(current, DEFAULT_ENDPOINTS_FILE);
    if (existsSync(candidate)) return candidate;
    const isRoot = existsSync(join(current, '.git')) || existsSync(join(current, 'package.json'));
    const parent = dirname(current);
    if (isRoot || parent === current) return isRoot ? candidate : DEFAULT_ENDPOINTS_FILE;
    current = parent;
  }
}

/**
 * The runtime's rule sets: as given when that path exists from here, else relative to the runtime's
 * project (the endpoints file is `<project>/.local/endpoints.json`), so the CLI works from any subfolder.
 */
function rulesetsPathFor(endpointsFile: string, given: unknown): string {
  const path = typeof given === 'string' ? given : 'rulesets';
  return isAbsolute(path) || existsSync(path) ? path : resolve(dirname(dirname(endpointsFile)), path);
}

async function openLocalTarget(file: string): Promise<OpsTarget> {
  let env: Record<string, string | number>;
  try {
    env = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new OpsCliError(
      missing
        ? `no local runtime: ${file} not found. Start one with 'npm start -- --keep-running' (or target AWS with --stack NAME)`
        : `${file} is not valid JSON (${(error as Error).message}); restart 'npm start -- --keep-running' to rewrite it`,
    );
  }
  const need = [
    'DYNAMODB_ENDPOINT',
    'EVENTBRIDGE_ENDPOINT',
    'SIGNALS_TABLE_NAME',
    'STATE_TABLE_NAME',
    'AUDIT_TABLE_NAME',
    'EVENT_BUS_NAME',
  ];
  const absent = need.filter((k) => typeof env[k] !== 'string');
  if (absent.length > 0)
    throw new OpsCliError(`${file} lacks ${absent.join(', ')}; restart 'npm start -- --keep-running'`);
  const get = (k: string) => String(env[k]);
  const notRunning = `the local runtime in ${file} is not answering; start it again with 'npm start -- --keep-running'`;
  if (typeof env.pid === 'number') {
    try {
      process.kill(env.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH')
        throw new OpsCliError(`${notRunning} (process ${env.pid} has ended)`);
    }
  }
  const region = typeof env.AWS_REGION === 'string' ? env.AWS_REGION : 'us-east-1';
  const credentials = {
    accessKeyId: typeof env.AWS_ACCESS_KEY_ID === 'string' ? env.AWS_ACCESS_KEY_ID : 'local',
    secretAccessKey: typeof env.AWS_SECRET_ACCESS_KEY === 'string' ? env.AWS_SECRET_ACCESS_KEY : 'local',
  };
  const dynamo = dynamoDocumentClient({
    endpoint: get('DYNAMODB_ENDPOINT'),
    region,
    credentials: () => credentials,
    maxAttempts: 1,
  });
  try {
    await dynamo.send(new ScanCommand({ TableName: get('STATE_TABLE_NAME'), Limit: 1 }), {
      signal: AbortSignal.timeout(3_000),
    });
  } catch (error) {
    throw new OpsCliError(
      `${notRunning} (DynamoDB at ${get('DYNAMODB_ENDPOINT')}: ${(error as Error).message || (error as Error).name})`,
    );
  }
  const events = eventBridgeClient({
    endpoint: get('EVENTBRIDGE_ENDPOINT'),
    region,
    credentials: () => credentials,
  });
  const ops = new OpsService({
    store: new DynamoDbOpsStore(
      dynamo,
      { signals: get('SIGNALS_TABLE_NAME'), state: get('STATE_TABLE_NAME'), audit: get('AUDIT_TABLE_NAME') },
      env.EXIT_ENGINE_DYNAMODB_TRANSACTIONS !== 'false',
    ),
    catalog: catalogFrom(
      // The rule sets the runtime evaluates with: published ones first, its folder as the fallback.
      new LiveRuleSets(
        new DynamoDbRuleSetStore(dynamo, { state: get('STATE_TABLE_NAME'), audit: get('AUDIT_TABLE_NAME') }),
        loadRuleSetDirectory(rulesetsPathFor(file, env.RULESETS_PATH)),
        { ttlMs: 0, clock: Date.now },
      ),
      new DynamoDbEngineStore(dynamo, {
        signals: get('SIGNALS_TABLE_NAME'),
        state: get('STATE_TABLE_NAME'),
        audit: get('AUDIT_TABLE_NAME'),
      }),
    ),
    // Locally the CLI stands in for the ops function: the engine's publisher, the runtime's bus.
    publisher: new EventBridgeSignalPublisher(events, get('EVENT_BUS_NAME'), { baseDelayMs: 5 }),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { count: () => undefined, measure: () => undefined },
    engineVersion: ENGINE_VERSION,
    leaseMs: 2_000,
    auditRetentionDays: 2555,
  });
  const actor = `local:${userInfo().username}`;
  return {
    description: `local runtime (${get('DYNAMODB_ENDPOINT')})`,
    actor,
    ops,
    decide: (cmd) => runOpsCommand(ops, cmd, actor, Date.now()),
    close() {
      // Nothing to release: both clients' keep-alive sockets are unref'd, so the CLI exits when done.
    },
  };
}

/** The CloudFormation outputs the CLI needs, from the stack or (for a prefix) its two stacks. */
export async function stackOutputs(cf: CloudFormationClient, name: string): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  const found: string[] = [];
  for (const stackName of [name, `${name}Stateful`, `${name}Stateless`]) {
    try {
      const out = await cf.send(new DescribeStacksCommand({ StackName: stackName }));
      for (const o of out.Stacks?.[0]?.Outputs ?? [])
        if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] ??= o.OutputValue;
      found.push(stackName);
    } catch (error) {
      if (!/does not exist/.test((error as Error).message)) throw error;
    }
    if (outputs.SignalsTableName && outputs.OpsCommandUrl) break;
  }
  if (found.length === 0) {
    throw new OpsCliError(
      `no stack named ${name} (nor ${name}Stateful / ${name}Stateless) in ${await cf.config.region()}; check --stack and --region`,
    );
  }
  const missing = ['SignalsTableName', 'AuditTableName', 'OpsCommandUrl'].filter((k) => !outputs[k]);
  if (missing.length > 0)
    throw new OpsCliError(
      `stack(s) ${found.join(', ')} have no output ${missing.join(', ')}; is it the exit engine?`,
    );
  return outputs;
}

/** A deployed stack as the caller sees it: their credentials, who they are (audited as the actor), its outputs. */
export interface OpenedStack {
  cfg: { region?: string; credentials: ReturnType<typeof fromNodeProviderChain> };
  /** The region the SDK resolved (the flag, else the environment or profile). */
  region: string;
  actor: string;
  outputs: Record<string, string>;
}

/** The stores' document client on a deployed stack's tables, with the caller's credential chain. */
export function stackDocumentClient(opened: OpenedStack): DynamoDocumentClient {
  return dynamoDocumentClient({ region: opened.region, credentials: opened.cfg.credentials });
}

/**
 * Opens a deployed stack for the CLI (`--stack NAME`): the default credential chain, the caller's
 * identity from STS, and the stack's outputs; any AWS failure becomes one `cannot read stack` message.
 */
export async function openStack(stack: string, region: string | undefined): Promise<OpenedStack> {
  const credentials = fromNodeProviderChain();
  const cfg = { ...(region ? { region } : {}), credentials };
  const cf = new CloudFormationClient(cfg);
  const sts = new STSClient(cfg);
  try {
    const actor = (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
    return { cfg, region: await cf.config.region(), actor, outputs: await stackOutputs(cf, stack) };
  } catch (error) {
    if (error instanceof OpsCliError) throw error;
    throw new OpsCliError(
      `cannot read stack ${stack}: ${(error as Error).name}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    cf.destroy();
    sts.destroy();
  }
}

async function openAwsTarget(stack: string, region: string | undefined): Promise<OpsTarget> {
  const opened = await openStack(stack, region);
  const { cfg, actor, outputs } = opened;
  const { credentials } = cfg;
  const url = new URL(outputs.OpsCommandUrl!);
  const urlRegion = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
  const dynamo = stackDocumentClient(opened);
  const ops = new OpsService({
    // ops-read reads the signals and audit tables; mutes live in the state table, so they are listed via the URL.
    store: new DynamoDbOpsStore(dynamo, {
      signals: outputs.SignalsTableName!,
      state: outputs.StateTableName ?? '',
      audit: outputs.AuditTableName!,
    }),
    // Mutes are decided by the ops function, which checks them against its own rule sets.
    catalog: { ruleSet: () => undefined, strategies: async () => undefined },
    publisher: {
      publish: async () => {
        throw new OpsCliError('the CLI never publishes in AWS; decisions go through the ops function');
      },
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { count: () => undefined, measure: () => undefined },
    engineVersion: ENGINE_VERSION,
    leaseMs: 60_000,
    auditRetentionDays: 2555,
  });
  const client = new SignedOpsClient(url, urlRegion ?? region ?? opened.region, credentials);
  return {
    description: `stack ${stack} (${url.hostname})`,
    actor,
    ops,
    decide: (cmd) => client.send(cmd),
    close() {},
  };
}
