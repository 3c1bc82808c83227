import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { EventBusPolicy } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/*
 * How the conditions are written, and why.
 *
 * EventBridge documents `events:source` and `events:detail-type` as condition keys of PutEvents
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html); the Service Authorization
 * Reference types them ArrayOfString, i.e. multivalued: one PutEvents call carries up to ten entries, and the
 * request context holds the set of their sources and detail types
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html).
 * IAM says a multivalued key needs a set operator (ForAnyValue / ForAllValues), and that ForAllValues is also
 * true when the key is absent, so an Allow with it needs a `Null` guard
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 *
 * Each condition below is right under either reading of the keys:
 * - a Deny uses `ForAnyValue:StringEquals`: true when at least one entry has the protected value. Over a
 *   single value it is plain `StringEquals`; over a set it refuses a batch that smuggles one forged entry
 *   among harmless ones. (Absent key: false, so nothing is denied by accident; the Allow side still applies.)
 * - an Allow uses `ForAllValues:StringEquals` plus `Null: false`: true only when the key is present and every
 *   value is one of ours. Over a single value it is `StringEquals`; over a set, one foreign entry voids it.
 * Principals are matched with `aws:PrincipalArn` (single-valued; for an assumed role it is the role's ARN, so
 * a session name changes nothing).
 */

/** `events:PutEvents` conditions for "at least one entry has one of these values" (for Deny statements). */
export function anyEntry(key: 'events:source' | 'events:detail-type', values: readonly string[]) {
  return { 'ForAnyValue:StringEquals': { [key]: [...values] } };
}

/** `events:PutEvents` conditions for "every entry has one of these values, and the key is present" (for Allow). */
export function everyEntry(sources: readonly string[], detailTypes: readonly string[]) {
  return {
    'ForAllValues:StringEquals': { 'events:source': [...sources], 'events:detail-type': [...detailTypes] },
    Null: { 'events:source': 'false', 'events:detail-type': 'false' },
  };
}

/** One input (or output) stream the bus protects: who may put it, by detail type and by source. */
export interface ProtectedStream {
  /** Sid stem, e.g. `Snapshot`. */
  readonly name: string;
  readonly source: string;
  readonly detailTypes: readonly string[];
  /**
   * Principal ARNs (tokens allowed) that may put it. Empty: no one may (fail closed). Producers in another
   * account also need the Allow statement this construct adds for them.
   */
  readonly producers: readonly string[];
  /** Add an Allow for the producers (needed for cross-account producers; our own engine roles skip it). */
  readonly allowProducers: boolean;
  /**
   * Whether this stream's statements protect its source too (default true). False for a stream that shares
   * its source with another one (the engine's internal requests travel under the engine's own source, which
   * the engine's outbound stream protects); it then denies only its detail types to all but its producers.
   */
  readonly protectsSource?: boolean;
  /** Principals that may also put this source, with another stream's detail types (that stream says which). */
  readonly sourceAlsoPutBy?: readonly string[];
}

/** The statements of the bus policy, one protected stream at a time (exported for the infra tests). */
export function busPolicyStatements(
  busArn: string,
  streams: readonly ProtectedStream[],
): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  for (const stream of streams) {
    const except = (arns: readonly string[]) =>
      arns.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': [...arns] } } : {};
    // Two denials, by detail type and by source: either alone would let a forger pick the other.
    statements.push(
      new iam.PolicyStatement({
        sid: `DenyForeign${stream.name}DetailType`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [busArn],
        conditions: { ...anyEntry('events:detail-type', stream.detailTypes), ...except(stream.producers) },
      }),
    );
    if (stream.protectsSource !== false) {
      statements.push(
        new iam.PolicyStatement({
          sid: `DenyForeign${stream.name}Source`,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [busArn],
          conditions: {
            ...anyEntry('events:source', [stream.source]),
            ...except([...stream.producers, ...(stream.sourceAlsoPutBy ?? [])]),
          },
        }),
      );
    }
    if (stream.allowProducers && stream.producers.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: `Allow${stream.name}Producers`,
          effect: iam.Effect.ALLOW,
          principals: stream.producers.map((arn) => new iam.ArnPrincipal(arn)),
          actions: ['events:PutEvents'],
          resources: [busArn],
          conditions: everyEntry([stream.source], stream.detailTypes),
        }),
      );
    }
  }
  return statements;
}

export interface BusPolicyProps {
  readonly bus: IEventBus;
  readonly streams: readonly ProtectedStream[];
}

/**
 * The bus's resource policy: each protected stream (our outbound signals, the hub's snapshots, market data)
 * may be put only by its producers. One `AWS::Events::EventBusPolicy` per statement, through the L2
 * `EventBusPolicy` (the `statement` form, not the deprecated `principal`/`action`/`condition` properties);
 * it works for a bus we create and for one we attach to by name.
 */
export class BusPolicy extends Construct {
  readonly statements: iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: BusPolicyProps) {
    super(scope, id);
    this.statements = busPolicyStatements(props.bus.eventBusArn, props.streams);
    let previous: EventBusPolicy | undefined;
    for (const statement of this.statements) {
      const policy = new EventBusPolicy(this, statement.sid ?? 'Statement', {
        eventBus: props.bus,
        statementId: statement.sid ?? 'Statement',
        statement: statement.toStatementJson(),
      });
      // One at a time: parallel PutPermission calls on one bus can fail with ConcurrentModification.
      if (previous) policy.node.addDependency(previous);
      previous = policy;
    }
  }
}
