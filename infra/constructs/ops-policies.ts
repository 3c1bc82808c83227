import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { TableDefinition } from '#lib/adapters/dynamodb/tables.js';
import { tableResourceArns } from './engine-function.js';

/** A table ops may read, with its definition (for its index ARNs). */
export interface ReadableTable {
  readonly table: ITable;
  readonly definition: TableDefinition;
}

export interface OpsPoliciesProps {
  /** Tables `ops-read` may read: signals and audit, nothing else. */
  readonly readableTables: readonly ReadableTable[];
  /** Stacks whose outputs (table names, function URL) the ops CLI looks up. */
  readonly stackNames: readonly string[];
  /** The function behind the ops Function URL: approve, reject, mute go through it. */
  readonly opsCommand: IFunction;
}

/**
 * The two managed policies a deployer attaches to people: `ops-read` reads signals and the audit trail;
 * `ops-approve` adds invoking the ops command URL. Neither can write a table or put an event: deciding is
 * separate from publishing, and publishing stays with the engine.
 */
export class OpsPolicies extends Construct {
  readonly read: iam.ManagedPolicy;
  readonly approve: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OpsPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const readStatements = [
      new iam.PolicyStatement({
        sid: 'ReadSignalsAndAudit',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
        resources: props.readableTables.flatMap(({ table, definition }) =>
          tableResourceArns(table, definition),
        ),
      }),
      new iam.PolicyStatement({
        sid: 'ReadStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: props.stackNames.map((name) =>
          stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` }),
        ),
      }),
    ];

    this.read = new iam.ManagedPolicy(this, 'Read', {
      managedPolicyName: `${stack.stackName}-ops-read`,
      description: 'Exit engine ops-read: read signals and the audit trail, and the stack outputs.',
      statements: readStatements,
    });

    this.approve = new iam.ManagedPolicy(this, 'Approve', {
      managedPolicyName: `${stack.stackName}-ops-approve`,
      description: 'Exit engine ops-approve: ops-read, plus approve/reject/mute through the ops command URL.',
      statements: [
        ...readStatements,
        new iam.PolicyStatement({
          sid: 'InvokeOpsCommandUrl',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [props.opsCommand.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        // Since October 2025 a function URL call also needs lambda:InvokeFunction; the condition limits it to
        // calls that come through the URL, so the policy still grants no direct invocation.
        new iam.PolicyStatement({
          sid: 'InvokeOpsCommandViaUrlOnly',
          actions: ['lambda:InvokeFunction'],
          resources: [props.opsCommand.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });

    // A stack ARN ends in a generated id, so `<name>/*` is the narrowest resource naming that stack.
    for (const policy of [this.read, this.approve]) {
      for (const name of props.stackNames) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${name}/*]`,
          reason: `DescribeStacks on stack ${name} only; the trailing /* stands for the stack's generated id.`,
        });
      }
    }
  }
}
