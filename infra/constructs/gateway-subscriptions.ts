import { Duration, SecretValue, Validations } from 'aws-cdk-lib';
import {
  ApiDestination,
  Authorization,
  Connection,
  EventBus,
  HttpMethod,
  type IEventBus,
  Rule,
} from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HttpsSubscription } from '#infra/config.js';
import { cdkEventPattern } from '#infra/event-patterns.js';
import { gatewayRoute } from '#lib/contracts/routes.js';

/** Which gateway deliveries to set up; each is independent, all share one rule and its failure queue. */
export interface GatewaySubscriptionsProps {
  readonly bus: IEventBus;
  /** SQS queue for the gateway (default true). */
  readonly queue?: boolean;
  readonly https?: HttpsSubscription;
  /** ARN of an event bus in another account. */
  readonly targetBusArn?: string;
}

/** Gateway deliveries: a gateway outage of up to a day is ridden out, then the event is dead-lettered. */
export const GATEWAY_TARGET_RETRY = { retryAttempts: 185, maxEventAge: Duration.hours(24) } as const;

/** How long the gateway queue keeps a message; the oldest-message alarm fires at half of it. */
export const GATEWAY_QUEUE_RETENTION = Duration.days(4);

/**
 * How gateways receive `exit_signal_emitted`: one rule on our bus, delivering to an SQS queue, an HTTPS
 * endpoint and/or a bus in another account, chosen by props so a deployer never edits the stack.
 */
export class GatewaySubscriptions extends Construct {
  readonly rule: Rule;
  /** Events EventBridge could not deliver to any gateway target. */
  readonly deliveryFailures: Queue;
  readonly queue?: Queue;
  readonly queueDeadLetters?: Queue;

  constructor(scope: Construct, id: string, props: GatewaySubscriptionsProps) {
    super(scope, id);

    this.rule = new Rule(this, 'Rule', {
      eventBus: props.bus,
      description: 'exit_signal_emitted from the exit engine to the gateway subscriptions',
      eventPattern: cdkEventPattern(gatewayRoute()),
    });

    this.deliveryFailures = new Queue(this, 'DeliveryFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deliveryFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the gateway rule targets (EventBridge DeadLetterConfig).',
    });
    const targetOptions = { deadLetterQueue: this.deliveryFailures, ...GATEWAY_TARGET_RETRY };

    if (props.queue ?? true) {
      this.queueDeadLetters = new Queue(this, 'QueueDeadLetters', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.queue = new Queue(this, 'Queue', {
        // SQS-managed keys: EventBridge can deliver without a key policy, the gateway needs no KMS grant.
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: GATEWAY_QUEUE_RETENTION,
        visibilityTimeout: Duration.minutes(5),
        deadLetterQueue: { queue: this.queueDeadLetters, maxReceiveCount: 5 },
      });
      this.rule.addTarget(new targets.SqsQueue(this.queue, targetOptions));
    }

    if (props.https) {
      const secret = props.https.secretJsonField
        ? SecretValue.secretsManager(props.https.secretArnOrName, { jsonField: props.https.secretJsonField })
        : SecretValue.secretsManager(props.https.secretArnOrName);
      const connection = new Connection(this, 'HttpsConnection', {
        description: 'Exit engine to gateway webhook: API key from Secrets Manager',
        authorization: Authorization.apiKey(props.https.apiKeyHeader ?? 'x-api-key', secret),
      });
      const destination = new ApiDestination(this, 'HttpsDestination', {
        connection,
        endpoint: props.https.endpointUrl,
        httpMethod: HttpMethod.POST,
        rateLimitPerSecond: props.https.rateLimitPerSecond ?? 10,
        description: 'Gateway webhook receiving exit_signal_emitted',
      });
      this.rule.addTarget(new targets.ApiDestination(destination, targetOptions));
    }

    if (props.targetBusArn) {
      // CDK creates the role EventBridge assumes to put events on the other account's bus; that bus's own
      // resource policy must allow this account.
      // Bus-to-bus targets take no retry policy; EventBridge applies its own and dead-letters what fails.
      this.rule.addTarget(
        new targets.EventBus(EventBus.fromEventBusArn(this, 'TargetBus', props.targetBusArn), {
          deadLetterQueue: this.deliveryFailures,
        }),
      );
    }
  }
}
