import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/engine-function.js';
import { assertRuleSetsValid, InvalidRuleSetsError } from '#infra/ruleset-guard.js';
import { validateRuleSetDirectory } from '#lib/rules/ruleset-loader.js';

describe('assertRuleSetsValid', () => {
  it('passes a valid rule-set folder', () => {
    expect(() => assertRuleSetsValid('rulesets', () => ({ ok: true }))).not.toThrow();
  });

  it('fails with every problem listed', () => {
    const validate = () => ({
      ok: false as const,
      errors: ['w1.yaml: rules[2].limit: must be between 0 and 1', 'w2.yaml: bad'],
    });
    expect(() => assertRuleSetsValid('rulesets', validate)).toThrow(InvalidRuleSetsError);
    expect(() => assertRuleSetsValid('rulesets', validate)).toThrow(
      /rules\[2\]\.limit: must be between 0 and 1[\s\S]*w2\.yaml/,
    );
  });

  it('accepts the rule sets the repository ships (what `cdk synth` bundles)', () => {
    expect(validateRuleSetDirectory(join(PROJECT_ROOT, 'rulesets'))).toEqual({ ok: true });
  });
});
