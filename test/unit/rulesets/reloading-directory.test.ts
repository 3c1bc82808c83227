import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ruleSetVersion } from '#lib/rules/ruleset-loader.js';
import { ReloadingRuleSetDirectory, type ReloadResult } from '#lib/rulesets/reloading-directory.js';

describe('local --rules DIR reload', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function touch(file: string, text: string, mtimeSec: number) {
    writeFileSync(file, text);
    utimesSync(file, mtimeSec, mtimeSec);
  }

  it('reloads a changed file, keeps the last good sets when the folder stops validating, and says so once', () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-reload-'));
    cpSync('rulesets/default.yaml', join(dir, 'default.yaml'));
    let now = 0;
    const rules = new ReloadingRuleSetDirectory(dir, { minIntervalMs: 500, clock: () => now });
    const seen: ReloadResult[] = [];
    rules.onReload((r) => seen.push(r));
    const original = readFileSync(join(dir, 'default.yaml'), 'utf8');
    expect(rules.forWorld('w1')?.version).toBe(ruleSetVersion(original));

    const edited = original.replace('limit: 0.025', 'limit: 0.03');
    touch(join(dir, 'default.yaml'), edited, 2_000_000_000);
    // Not looked at again before the interval passes.
    now = 100;
    expect(rules.forWorld('w1')?.version).toBe(ruleSetVersion(original));
    now = 600;
    expect(rules.forWorld('w1')?.version).toBe(ruleSetVersion(edited));
    expect(seen).toEqual([
      { ok: true, versions: [{ world: 'default', version: ruleSetVersion(edited), source: 'default.yaml' }] },
    ]);

    touch(join(dir, 'default.yaml'), edited.replace('confidence: 0.99', 'confidence: 2'), 2_000_000_100);
    expect(rules.check()).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/rules\[0\]\.confidence/)],
    });
    expect(rules.forWorld('w1')?.version).toBe(ruleSetVersion(edited));
    expect(rules.check()).toBeUndefined();
    expect(seen).toHaveLength(2);

    // A new world's file is picked up as well.
    touch(join(dir, 'default.yaml'), edited, 2_000_000_200);
    touch(join(dir, 'w9.yaml'), edited.replace('world: default', 'world: w9'), 2_000_000_200);
    expect(rules.check()).toMatchObject({ ok: true });
    expect(rules.forWorld('w9')?.world).toBe('w9');
  });
});
