import { describe, expect, it } from 'vitest';
import { actionsOf, identityStatements, roleStatements, type Statement, synthEngine, text } from './synth.js';

/** The roles that evaluate and publish signals (the market function does neither: see its own tests). */
const ENGINE_ROLES = [
  'EvaluateSnapshotRole',
  'EvaluateMarketWorldRole',
  'ApprovalTimeoutRole',
  'OpsCommandRole',
  'OutboxSweeperSweepOutboxesRole',
];
const TABLE_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/**
 * Every action any identity policy of ours may hold. Anything else (orders, positions, a gateway's API)
 * fails this test: the engine recommends and the gateway applies.
 */
const ALLOWED_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'sqs:SendMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'events:PutEvents',
  'events:InvokeApiDestination',
  's3:GetObject',
  'cloudformation:DescribeStacks',
  'lambda:InvokeFunctionUrl',
  'lambda:InvokeFunction',
]);

const isAuditTable = (resource: unknown) => text(resource).includes('AuditTable');
const isBus = (resource: unknown) => text(resource).includes('Bus');

describe('permissions', () => {
  const engine = synthEngine({
    gatewayHttps: { endpointUrl: 'https://gateway.example.com/hook', secretArnOrName: 'gateway/api-key' },
    gatewayTargetBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway',
    snapshotRefBuckets: ['qmtl-risk-refs'],
  });
  const template = engine.statelessTemplate;
  const all = identityStatements(template);

  describe('engine roles', () => {
    it.each(ENGINE_ROLES)('%s may put only our event types, with our source, on the one bus', (role) => {
      const putEvents = roleStatements(template, role).filter((s) =>
        actionsOf(s).includes('events:PutEvents'),
      );
      expect(putEvents).toHaveLength(1);
      expect(putEvents[0]).toEqual({
        Sid: 'PublishExitEngineEventsOnly',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::ImportValue': expect.stringMatching(/BusEA82B648Arn/) },
        // Set operators (the keys are multivalued, one value per entry) with a Null guard: every entry must
        // carry our source and one of our detail types, and a request without the keys matches nothing.
        Condition: {
          'ForAllValues:StringEquals': {
            'events:source': ['qmtl.services.exit_engine'],
            'events:detail-type': ['exit_signal_emitted', 'exit_signal_proposed'],
          },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      });
    });

    it.each(ENGINE_ROLES)('%s can only append to the audit table', (role) => {
      const onAudit = roleStatements(template, role).filter((s) => isAuditTable(s.Resource));
      expect(onAudit).toHaveLength(1);
      expect(actionsOf(onAudit[0] as Statement).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
    });

    describe('the market function (stores market data, requests one re-evaluation per world)', () => {
      const market = roleStatements(template, 'EvaluateMarketRole');

      it('may put only market_reevaluation_requested, with our source, on the one bus', () => {
        const putEvents = market.filter((s) => actionsOf(s).includes('events:PutEvents'));
        expect(putEvents).toEqual([
          {
            Sid: 'RequestMarketReevaluationsOnly',
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: { 'Fn::ImportValue': expect.stringMatching(/BusEA82B648Arn/) },
            Condition: {
              'ForAllValues:StringEquals': {
                'events:source': ['qmtl.services.exit_engine'],
                'events:detail-type': ['market_reevaluation_requested'],
              },
              Null: { 'events:source': 'false', 'events:detail-type': 'false' },
            },
          },
        ]);
      });

      it('writes the state table (market data) without deleting, appends to the audit, never touches signals', () => {
        const tables = market.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
        expect(tables.some((s) => text(s.Resource).includes('SignalsTable'))).toBe(false);
        const state = tables.filter((s) => text(s.Resource).includes('StateTable'));
        expect(state).toHaveLength(1);
        expect(actionsOf(state[0] as Statement)).not.toContain('dynamodb:DeleteItem');
        const audit = tables.filter((s) => isAuditTable(s.Resource));
        expect(actionsOf(audit[0] as Statement).sort()).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
        ]);
        expect(tables).toHaveLength(2);
      });
    });

    it('grants no UpdateItem or DeleteItem on the audit table anywhere', () => {
      for (const { statement } of all.filter(({ statement }) => isAuditTable(statement.Resource))) {
        expect(actionsOf(statement)).not.toContain('dynamodb:UpdateItem');
        expect(actionsOf(statement)).not.toContain('dynamodb:DeleteItem');
        expect(actionsOf(statement)).not.toContain('dynamodb:BatchWriteItem');
      }
    });

    it('reads snapshot refs only from the buckets named in props, and only in the evaluators and the sweep', () => {
      const s3 = all.filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('s3:')));
      // The sweep runs staleness rules on the latest snapshot, which may carry an s3:// ref; ops never reads refs.
      expect(s3.map(({ policy }) => policy).sort()).toEqual([
        expect.stringMatching(/^ApprovalTimeoutRole/),
        expect.stringMatching(/^EvaluateMarketWorldRole/),
        expect.stringMatching(/^EvaluateSnapshotRole/),
      ]);
      for (const { statement } of s3) {
        expect(actionsOf(statement)).toEqual(['s3:GetObject']);
        expect(text(statement.Resource)).toContain(':s3:::qmtl-risk-refs/*');
      }
    });
  });

  describe('ops policies', () => {
    const managed = template.findResources('AWS::IAM::ManagedPolicy');
    const byName = (suffix: string) => {
      const found = Object.values(managed).find((p) => text(p.Properties.ManagedPolicyName).includes(suffix));
      if (!found) throw new Error(`no managed policy ${suffix}`);
      return found.Properties.PolicyDocument.Statement as Statement[];
    };

    it('ops-read can Query/GetItem/Scan signals and audit, and DescribeStacks, nothing more', () => {
      const statements = byName('-ops-read');
      expect(statements).toHaveLength(2);
      const [tables, stacks] = statements as [Statement, Statement];
      expect(actionsOf(tables).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']);
      const resources = text(tables.Resource);
      expect(resources).toContain('SignalsTable');
      expect(resources).toContain('AuditTable');
      expect(resources).not.toContain('StateTable');
      expect(actionsOf(stacks)).toEqual(['cloudformation:DescribeStacks']);
      expect(text(stacks.Resource)).toContain('stack/ExitEngineStateful/*');
    });

    it('ops-approve adds only invoking the ops-command URL', () => {
      const statements = byName('-ops-approve');
      const extra = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
      expect(extra).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunctionUrl',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^OpsCommandFunction/), 'Arn'] },
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^OpsCommandFunction/), 'Arn'] },
          Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ]);
      expect(statements).toHaveLength(4);
    });

    it.each(['-ops-read', '-ops-approve'])('%s cannot write a table or put an event', (suffix) => {
      for (const statement of byName(suffix)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) {
          expect(TABLE_WRITES).not.toContain(action);
          expect(action.startsWith('events:')).toBe(false);
        }
      }
    });

    it('are exported as stack outputs', () => {
      template.hasOutput('OpsReadPolicyArn', {});
      template.hasOutput('OpsApprovePolicyArn', {});
    });
  });

  it('reads every named snapshot-ref bucket through one statement per role (IAM refuses repeated Sids)', () => {
    const two = synthEngine({
      snapshotRefBuckets: ['qmtl-risk-refs', 'qmtl-risk-refs-dr'],
    }).statelessTemplate;
    for (const role of ['EvaluateSnapshotRole', 'EvaluateMarketWorldRole', 'ApprovalTimeoutRole']) {
      const reads = roleStatements(two, role).filter((s) => actionsOf(s).includes('s3:GetObject'));
      expect(reads).toHaveLength(1);
      expect(reads[0]?.Sid).toBe('ReadSnapshotRefs');
      const resources = text(reads[0]?.Resource);
      expect(resources).toContain(':s3:::qmtl-risk-refs/*');
      expect(resources).toContain(':s3:::qmtl-risk-refs-dr/*');
    }
  });

  describe('across both stacks', () => {
    const everything = [...all, ...identityStatements(engine.statefulTemplate)];

    it('repeats no Sid within a policy (IAM refuses such a document), with every option set', () => {
      const full = synthEngine({
        gatewayHttps: { endpointUrl: 'https://gateway.example.com/hook', secretArnOrName: 'gateway/api-key' },
        snapshotRefBuckets: ['qmtl-risk-refs', 'qmtl-risk-refs-dr'],
        hubBaseUrl: 'https://hub.example.com',
        hubTokenSecretName: 'hub/token',
        controlBusPipeRoleArn: 'arn:aws:iam::111122223333:role/pipe',
        snapshotProducerPrincipals: ['arn:aws:iam::111122223333:role/hub'],
      });
      const repeated: string[] = [];
      for (const template of [full.statelessTemplate, full.statefulTemplate]) {
        for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::Events::EventBusPolicy']) {
          for (const [id, resource] of Object.entries(template.findResources(type))) {
            const statements = (resource.Properties.PolicyDocument?.Statement ?? []) as Statement[];
            const sids = statements.flatMap((s) => (s.Sid ? [s.Sid] : []));
            for (const sid of new Set(sids)) {
              if (sids.filter((x) => x === sid).length > 1) repeated.push(`${id}: ${sid}`);
            }
          }
        }
      }
      expect(repeated).toEqual([]);
    });

    it('uses only allow-listed actions: nothing that could touch positions or orders', () => {
      const unexpected = everything
        .flatMap(({ statement }) => actionsOf(statement))
        .filter((a) => !ALLOWED_ACTIONS.has(a));
      expect(unexpected).toEqual([]);
    });

    it('has no wildcard action, and Resource "*" only for X-Ray, which supports nothing narrower', () => {
      for (const { statement } of everything) {
        for (const action of actionsOf(statement)) expect(action).not.toContain('*');
        if (
          statement.Resource === '*' ||
          (Array.isArray(statement.Resource) && statement.Resource.includes('*'))
        ) {
          expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
        }
      }
    });

    it('puts events only on our bus (engine) and the configured gateway targets (EventBridge roles)', () => {
      const putEvents = everything.filter(({ statement }) =>
        actionsOf(statement).includes('events:PutEvents'),
      );
      for (const { statement } of putEvents) {
        const onOurBus = isBus(statement.Resource) && text(statement.Resource).includes('ImportValue');
        const onGatewayBus = statement.Resource === 'arn:aws:events:eu-west-1:111122223333:event-bus/gateway';
        expect(onOurBus || onGatewayBus, text(statement)).toBe(true);
        if (onOurBus) {
          // The set-operator form (see test/infra/bus-policy.test.ts for why and for the bus policy):
          // our signals, or (the market function alone) the per-world requests.
          const detailTypes =
            statement.Sid === 'RequestMarketReevaluationsOnly'
              ? ['market_reevaluation_requested']
              : ['exit_signal_emitted', 'exit_signal_proposed'];
          expect(statement.Condition).toEqual({
            'ForAllValues:StringEquals': {
              'events:source': ['qmtl.services.exit_engine'],
              'events:detail-type': detailTypes,
            },
            Null: { 'events:source': 'false', 'events:detail-type': 'false' },
          });
        }
      }
    });
  });
});
