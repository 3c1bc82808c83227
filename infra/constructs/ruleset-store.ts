import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RULESET_PK_PREFIX } from '#lib/adapters/dynamodb/ruleset-store.js';

export interface RuleSetStoreProps {
  /** The state table: the rule-set store lives in it under `RULESET#<world>` keys. */
  readonly stateTable: ITable;
  /** The audit table: every publish, approval and rejection lands there with its before/after. */
  readonly auditTable: ITable;
  /** Stacks whose outputs (table names) `rules publish --stack` looks up. */
  readonly stackNames: readonly string[];
}

/**
 * The rule-set store's deploy side. The store is a partition family of the state table the functions
 * already read (no new resource, no new client in the bundle; the bundled `rulesets/` are the initial
 * versions, so a deploy needs no seeding). What it adds is who may publish: the `rules-publish`
 * managed policy lets a person read and write the `RULESET#…` items only (`dynamodb:LeadingKeys`),
 * never the engine's claims, outboxes, episodes or mutes, and append the audit record that goes with
 * each change.
 */
export class RuleSetStore extends Construct {
  readonly publishPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RuleSetStoreProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const onlyRuleSetKeys = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RULESET_PK_PREFIX}*`] },
    };
    this.publishPolicy = new iam.ManagedPolicy(this, 'PublishPolicy', {
      managedPolicyName: `${stack.stackName}-rules-publish`,
      description:
        'Exit engine rules-publish: read and publish rule sets (RULESET# items of the state table only), with their audit records.',
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadAndPublishRuleSetsOnly',
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [props.stateTable.tableArn],
          conditions: onlyRuleSetKeys,
        }),
        new iam.PolicyStatement({
          sid: 'AppendRuleSetAudit',
          actions: ['dynamodb:PutItem'],
          resources: [props.auditTable.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadStackOutputs',
          actions: ['cloudformation:DescribeStacks'],
          resources: props.stackNames.map((name) =>
            stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` }),
          ),
        }),
      ],
    });
    for (const name of props.stackNames) {
      Validations.of(this.publishPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${name}/*]`,
        reason: `DescribeStacks on stack ${name} only; the trailing /* stands for the stack's generated id.`,
      });
    }
  }
}
