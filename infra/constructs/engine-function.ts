import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUNDLED_RULESETS_PATH, METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '#infra/config.js';
import type { TableDefinition } from '#lib/adapters/dynamodb/tables.js';
import { buildLambdaBundle } from './lambda-bundling.js';

/** The repository root: esbuild's project root, where package-lock.json, functions/ and rulesets/ live. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a function may do with a table. The audit table is `append`: no update, no delete, ever. */
export type TableAccess = 'read' | 'readWrite' | 'readWriteDelete' | 'append';

const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
  readWriteDelete: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  // IAM cannot say "PutItem only with attribute_not_exists", so append-only means: no UpdateItem and no
  // DeleteItem at all; the adapter's conditional put keeps existing records from being overwritten.
  append: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
};

/** The table's ARN and each of its indexes by name: no `index/*` wildcard to justify. */
export function tableResourceArns(table: ITable, definition: TableDefinition): string[] {
  return [
    table.tableArn,
    ...definition.globalIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
  ];
}

/** Properties of the house Lambda: only what differs between our functions. */
export interface EngineFunctionProps {
  /** Entry file, relative to the repository root (e.g. `functions/evaluate-snapshot.ts`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** Reserved concurrency: at most this many invocations at once (and never fewer available). */
  readonly reservedConcurrentExecutions?: number;
  readonly environment?: Record<string, string>;
  /**
   * Asynchronous invocations (EventBridge, schedules) that still fail after Lambda's own retries go to a
   * dead-letter queue of their own, where an operator can read and redrive them.
   */
  readonly asyncFailureQueue?: boolean;
  readonly logRetention?: RetentionDays;
  /** Customer key the log group is encrypted with (its key policy must allow CloudWatch Logs). */
  readonly logKey?: IKey;
}

/**
 * The one way we build a Lambda: Node.js 22 on arm64, ESM bundle by local esbuild with the AWS SDK inside,
 * X-Ray (Active, with Powertools Tracer on the SDK clients), an explicit log group, Powertools settings and the rule sets
 * compiled beside the code.
 */
export class EngineFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: iam.Role;
  readonly logGroup: LogGroup;
  /** Where failed asynchronous invocations land, when enabled. */
  readonly failureQueue?: Queue;

  constructor(scope: Construct, id: string, props: EngineFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
      // Logs are diagnostics, not records: the audit trail lives in DynamoDB.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of the default AWSLambdaBasicExecutionRole managed policy, whose log
    // permissions cover every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (exit engine)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    if (props.asyncFailureQueue) {
      this.failureQueue = new Queue(this, 'AsyncFailures', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.failureQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is itself the dead-letter destination of the function's failed async invocations.",
      });
    }

    this.function = new LambdaFunction(this, 'Function', {
      // index.mjs: Lambda loads an .mjs handler as an ES module.
      handler: 'index.handler',
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: esbuild is a dependency, so the local bundling below always runs.
          image: DockerImage.fromRegistry('exit-engine-bundles-locally'),
          local: {
            tryBundle(outputDir: string): boolean {
              buildLambdaBundle(PROJECT_ROOT, props.entry, outputDir);
              return true;
            },
          },
        },
      }),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(this.failureQueue
        ? {
            onFailure: new SqsDestination(this.failureQueue),
            retryAttempts: 2,
            maxEventAge: Duration.hours(1),
          }
        : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Active tracing above; the Tracer captures the SDK clients (lib/observability.ts traceAwsClient).
        POWERTOOLS_TRACE_ENABLED: 'true',
        RULESETS_PATH: BUNDLED_RULESETS_PATH,
        ...props.environment,
      },
    });

    // X-Ray's PutTraceSegments/PutTelemetryRecords accept no resource narrower than "*".
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support only Resource "*".',
    });
    // cdk-nag flags any runtime older than the newest; Node.js 22 is the runtime the project fixes.
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime fixed by the project brief; upgrade deliberately, not by lint.',
    });
  }

  /** Grants access to a table and sets the env var the function reads its name from, in one call. */
  useTable(table: ITable, definition: TableDefinition, access: TableAccess): this {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: TABLE_ACTIONS[access],
        resources: tableResourceArns(table, definition),
      }),
    );
    this.function.addEnvironment(definition.envVar, table.tableName);
    return this;
  }

  /** Sets a plain environment variable (for values that carry no permission). */
  setEnv(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }

  /** The stack the function lives in (for ARNs built from its account and region). */
  get stack(): Stack {
    return Stack.of(this);
  }
}
