import { describe, expect, it } from 'vitest';
import type { ExitEngineProps } from '#infra/config.js';
import { type Statement, synthEngine, text } from './synth.js';

/** The roles that publish signals. */
const ENGINE_ROLES = [
  'ApprovalTimeoutRole',
  'EvaluateMarketWorldRole',
  'EvaluateSnapshotRole',
  'OpsCommandRole',
  'OutboxSweeperSweepOutboxesRole',
];
const HUB = 'arn:aws:iam::111122223333:role/qmtl-risk-hub';
const PIPE = 'arn:aws:iam::123456789012:role/controlbus-pipe';
const MARKET = 'arn:aws:iam::123456789012:role/market-feed';

/** The bus policy statements of a synthesized engine, by Sid. */
function busStatements(props: ExitEngineProps): Record<string, Statement> {
  const { statelessTemplate } = synthEngine(props);
  const out: Record<string, Statement> = {};
  for (const resource of Object.values(statelessTemplate.findResources('AWS::Events::EventBusPolicy'))) {
    const statement = resource.Properties.Statement as Statement;
    expect(resource.Properties.StatementId).toBe(statement.Sid);
    expect(resource.Properties.Principal, 'deprecated Principal property').toBeUndefined();
    out[statement.Sid ?? '?'] = statement;
  }
  return out;
}

const engineRoles = (statement: Statement) =>
  ((statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'] ?? []) as { 'Fn::GetAtt': [string, string] }[])
    .map((r) => r['Fn::GetAtt'][0].replace(/Role.*$/, 'Role'))
    .sort();

const deny = (condition: Record<string, unknown>) => ({
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'events:PutEvents',
  Resource: { 'Fn::ImportValue': expect.stringMatching(/Bus.*Arn/) },
  Condition: condition,
});

describe('bus resource policy', () => {
  describe('with producers configured', () => {
    const statements = busStatements({
      snapshotProducerPrincipals: [HUB],
      controlBusPipeRoleArn: PIPE,
      marketProducerPrincipals: [MARKET],
      marketSource: 'qmtl.services.market_data',
    });

    it('holds exactly these statements', () => {
      expect(Object.keys(statements).sort()).toEqual([
        'AllowMarketProducers',
        'AllowSnapshotProducers',
        'DenyForeignExitEngineDetailType',
        'DenyForeignExitEngineSource',
        'DenyForeignMarketDetailType',
        'DenyForeignMarketReevaluationDetailType',
        'DenyForeignMarketSource',
        'DenyForeignSnapshotDetailType',
        'DenyForeignSnapshotSource',
      ]);
    });

    it('refuses our source to all but the engine roles, and our signal types to all but the five that publish', () => {
      const bySource = statements.DenyForeignExitEngineSource!;
      expect(bySource).toMatchObject(
        deny({
          'ForAnyValue:StringEquals': { 'events:source': ['qmtl.services.exit_engine'] },
          ArnNotEquals: { 'aws:PrincipalArn': expect.any(Array) },
        }),
      );
      // The market function puts our source too, with its per-world requests only (below).
      expect(engineRoles(bySource)).toEqual([...ENGINE_ROLES, 'EvaluateMarketRole'].sort());
      const byType = statements.DenyForeignExitEngineDetailType!;
      expect(byType).toMatchObject(
        deny({
          'ForAnyValue:StringEquals': {
            'events:detail-type': ['exit_signal_emitted', 'exit_signal_proposed'],
          },
        }),
      );
      expect(engineRoles(byType)).toEqual(ENGINE_ROLES);
    });

    it('refuses market_reevaluation_requested to all but the market function (our source is refused above)', () => {
      const byType = statements.DenyForeignMarketReevaluationDetailType!;
      expect(byType).toMatchObject(
        deny({ 'ForAnyValue:StringEquals': { 'events:detail-type': ['market_reevaluation_requested'] } }),
      );
      expect(engineRoles(byType)).toEqual(['EvaluateMarketRole']);
      expect(statements.DenyForeignMarketReevaluationSource).toBeUndefined();
      expect(statements.AllowMarketReevaluationProducers).toBeUndefined();
    });

    it('refuses risk_snapshot_updated, and the hub source, to all but the hub producers and the ControlBus pipe', () => {
      expect(statements.DenyForeignSnapshotDetailType).toEqual({
        Sid: 'DenyForeignSnapshotDetailType',
        ...deny({
          'ForAnyValue:StringEquals': { 'events:detail-type': ['risk_snapshot_updated'] },
          ArnNotEquals: { 'aws:PrincipalArn': [HUB, PIPE] },
        }),
      });
      expect(statements.DenyForeignSnapshotSource).toEqual({
        Sid: 'DenyForeignSnapshotSource',
        ...deny({
          'ForAnyValue:StringEquals': { 'events:source': ['qmtl.services.worldservice'] },
          ArnNotEquals: { 'aws:PrincipalArn': [HUB, PIPE] },
        }),
      });
    });

    it('refuses market_snapshot_updated, and the market source, to all but the market producers', () => {
      expect(statements.DenyForeignMarketDetailType?.Condition).toEqual({
        'ForAnyValue:StringEquals': { 'events:detail-type': ['market_snapshot_updated'] },
        ArnNotEquals: { 'aws:PrincipalArn': [MARKET] },
      });
      expect(statements.DenyForeignMarketSource?.Condition).toEqual({
        'ForAnyValue:StringEquals': { 'events:source': ['qmtl.services.market_data'] },
        ArnNotEquals: { 'aws:PrincipalArn': [MARKET] },
      });
    });

    it('allows the producers (cross-account included) only batches made entirely of their own stream', () => {
      expect(statements.AllowSnapshotProducers).toEqual({
        Sid: 'AllowSnapshotProducers',
        Effect: 'Allow',
        Principal: { AWS: [HUB, PIPE] },
        Action: 'events:PutEvents',
        Resource: { 'Fn::ImportValue': expect.stringMatching(/Bus.*Arn/) },
        Condition: {
          'ForAllValues:StringEquals': {
            'events:source': ['qmtl.services.worldservice'],
            'events:detail-type': ['risk_snapshot_updated'],
          },
          // ForAllValues is true over an absent key; the Null guard makes the Allow need the key.
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      });
      expect(statements.AllowMarketProducers?.Principal).toEqual({ AWS: MARKET });
    });

    it('never uses a bare String operator on the multivalued events:* keys', () => {
      for (const statement of Object.values(statements)) {
        for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
          if (!Object.keys(keys).some((k) => k.startsWith('events:'))) continue;
          expect(operator, text(statement)).toMatch(/^(ForAnyValue:|ForAllValues:|Null$)/);
          if (statement.Effect === 'Deny') expect(operator).toMatch(/^ForAnyValue:/);
        }
      }
    });
  });

  it('with no producers configured, refuses the input streams to everyone (fail closed) and allows no one', () => {
    const statements = busStatements({});
    expect(statements.AllowSnapshotProducers).toBeUndefined();
    expect(statements.AllowMarketProducers).toBeUndefined();
    expect(statements.DenyForeignSnapshotDetailType?.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'events:detail-type': ['risk_snapshot_updated'] },
    });
    expect(statements.DenyForeignMarketSource?.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'events:source': ['qmtl.services.market_data'] },
    });
  });

  it('protects an existing bus the same way', () => {
    const statements = busStatements({ existingEventBusName: 'qmtl-bus', snapshotProducerPrincipals: [HUB] });
    expect(Object.keys(statements)).toHaveLength(8);
    for (const statement of Object.values(statements)) {
      expect(text(statement.Resource)).toContain('event-bus/qmtl-bus');
    }
  });

  it('the market rule always filters on the market source (default, or the configured one)', () => {
    for (const [props, source] of [
      [{}, 'qmtl.services.market_data'],
      [{ marketSource: 'vendor.marketdata' }, 'vendor.marketdata'],
    ] as [ExitEngineProps, string][]) {
      const rules = synthEngine(props).statelessTemplate.findResources('AWS::Events::Rule');
      const market = Object.entries(rules).find(([id]) => id.startsWith('MarketRule'))?.[1];
      expect(market?.Properties.EventPattern).toEqual({
        source: [source],
        'detail-type': ['market_snapshot_updated'],
      });
    }
  });

  it.each([
    [{ marketSource: 'qmtl.*' }, /marketSource: 'qmtl\.\*' is not an event source name/],
    [{ marketSource: 'aws.events' }, /marketSource: 'aws\.events' is reserved for AWS services/],
    [{ snapshotSource: 'qmtl.services.exit_engine' }, /snapshotSource: .* the engine's own outbound source/],
    [{ marketSource: 'qmtl.services.worldservice' }, /marketSource: .* must differ from snapshotSource/],
  ] as [ExitEngineProps, RegExp][])('refuses a bad source at synth: %j', (props, message) => {
    expect(() => synthEngine(props)).toThrow(message);
  });
});
