import { describe, expect, it } from 'vitest';
import { actionsOf, type Statement, synthEngine, text } from './synth.js';

/** The rule-set store's deploy side: the rules-publish policy, limited to the RULESET# items. */
describe('rule-set store', () => {
  const engine = synthEngine();
  const template = engine.statelessTemplate;
  const managed = template.findResources('AWS::IAM::ManagedPolicy');
  const policy = Object.values(managed).find((p) =>
    text(p.Properties.ManagedPolicyName).includes('-rules-publish'),
  );
  const statements = (policy?.Properties.PolicyDocument.Statement ?? []) as Statement[];
  const bySid = (sid: string) => statements.find((s) => (s as { Sid?: string }).Sid === sid);

  it('rules-publish reads and writes only the RULESET# items of the state table', () => {
    const state = bySid('ReadAndPublishRuleSetsOnly');
    expect(state).toBeDefined();
    expect(actionsOf(state!).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(text(state!.Resource)).toContain('StateTable');
    expect(text(state!.Resource)).not.toContain('/index/');
    expect(state!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RULESET#*'] },
    });
  });

  it('rules-publish only appends to the audit table and reads the stack outputs; nothing else', () => {
    const audit = bySid('AppendRuleSetAudit');
    expect(actionsOf(audit!)).toEqual(['dynamodb:PutItem']);
    expect(text(audit!.Resource)).toContain('AuditTable');
    expect(actionsOf(bySid('ReadStackOutputs')!)).toEqual(['cloudformation:DescribeStacks']);
    expect(statements).toHaveLength(3);
    for (const s of statements) {
      expect(text(s.Resource)).not.toContain('SignalsTable');
      for (const a of actionsOf(s)) expect(a.startsWith('events:') || a.startsWith('lambda:')).toBe(false);
    }
  });

  it('is exported, and the functions resolve rule sets from the state table they already read', () => {
    template.hasOutput('RulesPublishPolicyArn', {});
    const fns = template.findResources('AWS::Lambda::Function');
    const evaluate = Object.entries(fns).find(([id]) => id.startsWith('EvaluateSnapshot'))?.[1];
    const env = evaluate?.Properties.Environment.Variables as Record<string, unknown>;
    expect(text(env.STATE_TABLE_NAME)).toContain('StateTable');
    expect(env.RULESETS_PATH).toBeDefined();
  });
});
