import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileRuleSetDirectory } from '#lib/rules/compile-rule-sets.js';
import { COMPILED_RULESETS_FORMAT, readCompiledRuleSets } from '#lib/rules/compiled-rule-sets.js';
import { loadRuleSetDirectory, RuleSetError } from '#lib/rules/ruleset-loader.js';

describe('compiled rule sets (what a Lambda reads at cold start)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rules-compiled-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('read back exactly the sets the YAML loader validates, versions and defaults included', () => {
    const file = join(dir, 'rulesets.json');
    writeFileSync(file, compileRuleSetDirectory('rulesets'));
    const compiled = readCompiledRuleSets(file);
    const loaded = loadRuleSetDirectory('rulesets');
    expect(compiled.all()).toEqual(loaded.all());
    expect(compiled.forWorld('example-world')).toEqual(loaded.forWorld('example-world'));
    expect(compiled.forWorld('a-world-without-a-set')?.world).toBe('default');
  });

  it('refuses to compile an invalid rule set, naming the file, the field and the problem', () => {
    const rules = join(dir, 'rules');
    cpSync('rulesets', rules, { recursive: true });
    const text = readFileSync(join(rules, 'default.yaml'), 'utf8');
    writeFileSync(join(rules, 'default.yaml'), text.replace('limit: 0.025', 'limit: 2.5'));
    let error: unknown;
    try {
      compileRuleSetDirectory(rules);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuleSetError);
    expect((error as RuleSetError).errors).toContainEqual(
      expect.stringMatching(/^default\.yaml: rules\[0\]\.limit: /),
    );
  });

  it('refuses a file of another layout and a folder, naming the path', () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ format: 'exit-engine/compiled-rule-sets@0', sets: [] }));
    expect(() => readCompiledRuleSets(other)).toThrow(
      `${other}: not compiled rule sets of format '${COMPILED_RULESETS_FORMAT}'`,
    );
    expect(() => readCompiledRuleSets('rulesets')).toThrow(
      /rulesets: cannot read compiled rule sets \(EISDIR\)/,
    );
  });
});
