import { Stack, Validations } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Construct } from 'constructs';
import type { ControlBusSource } from '#infra/config.js';
import {
  CONTROLBUS_DETAIL_TYPE_PATH,
  CONTROLBUS_FILTER_PATTERN,
  CONTROLBUS_INPUT_TEMPLATE,
  CONTROLBUS_SOURCE_PATH,
  CONTROLBUS_TIME_PATH,
} from '#lib/controlbus/pipe-definition.js';

export interface ControlBusPipeProps {
  readonly bus: IEventBus;
  readonly source: ControlBusSource;
}

const VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
];

/**
 * An EventBridge Pipe from upstream's ControlBus (Kafka: Amazon MSK, or self-managed with a
 * SASL/SCRAM credential) to our bus: only `risk_snapshot_updated` records pass, and each becomes an
 * event whose `detail` is the CloudEvent, `detail-type` its type, `source` its source and `time` its
 * time — the definition `exit-engine local --controlbus` applies too. Kafka sources have no pipe
 * dead-letter queue (the pipe retries a batch until the records expire from the topic), so failures
 * are logged to the pipe's log group; events that reach the bus have the engine rule's DLQ.
 */
export class ControlBusPipe extends Construct {
  readonly pipe: CfnPipe;
  readonly role: iam.Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ControlBusPipeProps) {
    super(scope, id);
    const { source, bus } = props;
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'ControlBus pipe: reads the hub topic, puts risk_snapshot_updated on the engine bus',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PutOnEngineBus',
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
      }),
    );
    const group = source.consumerGroupId ?? 'exit-engine';
    if (source.mskClusterArn) {
      // ARNs of the topic and group live beside the cluster's: arn:...:cluster/<name>/<uuid>.
      const [prefix, rest] = source.mskClusterArn.split(':cluster/');
      const clusterPath = rest ?? '*/*';
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadMskCluster',
          actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
          resources: [source.mskClusterArn],
        }),
      );
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ConsumeHubTopic',
          actions: [
            'kafka-cluster:Connect',
            'kafka-cluster:DescribeTopic',
            'kafka-cluster:ReadData',
            'kafka-cluster:DescribeGroup',
            'kafka-cluster:AlterGroup',
          ],
          resources: [
            source.mskClusterArn,
            `${prefix}:topic/${clusterPath}/${source.topic}`,
            `${prefix}:group/${clusterPath}/${group}`,
          ],
        }),
      );
      // MSK sources connect through ENIs in the cluster's VPC; EC2 network actions take no narrower resource.
      this.role.addToPolicy(
        new iam.PolicyStatement({ sid: 'MskNetworking', actions: VPC_ACTIONS, resources: ['*'] }),
      );
    } else {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadKafkaCredential',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [source.credentialsSecretArn!],
        }),
      );
      if (source.subnetIds)
        this.role.addToPolicy(
          new iam.PolicyStatement({ sid: 'KafkaNetworking', actions: VPC_ACTIONS, resources: ['*'] }),
        );
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'EC2 network-interface actions the pipe needs to reach Kafka in a VPC accept only Resource "*".',
    });

    this.logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WritePipeLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const [first, ...more] = source.bootstrapServers ?? [];
    const common = {
      topicName: source.topic,
      consumerGroupId: group,
      startingPosition: 'LATEST',
      batchSize: 10,
    };
    this.pipe = new CfnPipe(this, 'Pipe', {
      description: 'Upstream ControlBus risk_snapshot_updated records to the Exit Engine bus',
      roleArn: this.role.roleArn,
      source: source.mskClusterArn ?? `smk://${first}`,
      sourceParameters: {
        filterCriteria: { filters: [{ pattern: JSON.stringify(CONTROLBUS_FILTER_PATTERN) }] },
        ...(source.mskClusterArn
          ? { managedStreamingKafkaParameters: common }
          : {
              selfManagedKafkaParameters: {
                ...common,
                ...(more.length > 0 ? { additionalBootstrapServers: more } : {}),
                credentials: { saslScram512Auth: source.credentialsSecretArn! },
                ...(source.subnetIds
                  ? {
                      vpc: {
                        subnets: [...source.subnetIds],
                        securityGroup: [...(source.securityGroupIds ?? [])],
                      },
                    }
                  : {}),
              },
            }),
      },
      target: bus.eventBusArn,
      targetParameters: {
        inputTemplate: CONTROLBUS_INPUT_TEMPLATE,
        eventBridgeEventBusParameters: {
          detailType: CONTROLBUS_DETAIL_TYPE_PATH,
          source: CONTROLBUS_SOURCE_PATH,
          time: CONTROLBUS_TIME_PATH,
        },
      },
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: { logGroupArn: this.logGroup.logGroupArn },
      },
    });
    this.pipe.node.addDependency(this.role);
  }
}
