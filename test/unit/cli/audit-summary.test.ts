import { describe, expect, it } from 'vitest';
import { auditSummary } from '#lib/cli/ops/format.js';
import type { AuditRecord } from '#lib/engine/ports.js';

/** An ops_action audit record as the rule-set publisher writes it (lib/rulesets/publish.ts). */
function rulesetAction(action: string, before: unknown, after: unknown): AuditRecord {
  return {
    world_id: 'demo-world',
    kind: 'ops_action',
    action,
    actor: 'local:ops-a',
    reason: 'add a VIX rule',
    before,
    after,
    target: { type: 'ruleset', id: 'demo-world' },
  } as unknown as AuditRecord;
}

describe('audit summary of rule-set actions', () => {
  it('names the versions a first publish moved between (it printed "none -> -")', () => {
    const line = auditSummary(
      rulesetAction('ruleset_publish', null, {
        version: 'sha256:26dc462677432784',
        revision: 1,
        source: 'v.yaml',
      }),
    );
    expect(line).toBe(
      'ruleset_publish demo-world by local:ops-a: none -> r1 sha256:26dc462677432784 (add a VIX rule)',
    );
  });

  it('names a bundled before by its source and a proposal as proposed', () => {
    const line = auditSummary(
      rulesetAction(
        'ruleset_propose',
        { version: 'sha256:aaaa', revision: 0, source: 'bundled demo-world.yaml' },
        { version: 'sha256:bbbb', revision: null, source: 'v.yaml', proposal_id: 'p1' },
      ),
    );
    expect(line).toBe(
      'ruleset_propose demo-world by local:ops-a: sha256:aaaa (bundled demo-world.yaml) -> sha256:bbbb (proposed) (add a VIX rule)',
    );
  });

  it('keeps the state wording of other ops actions (a mute)', () => {
    const line = auditSummary({
      world_id: 'demo-world',
      kind: 'ops_action',
      action: 'mute',
      actor: 'local:ops-a',
      reason: 'maintenance',
      before: null,
      after: { state: 'active' },
      target: { type: 'mute', id: 'mute-1' },
    } as unknown as AuditRecord);
    expect(line).toBe('mute mute-1 by local:ops-a: none -> active (maintenance)');
  });
});
