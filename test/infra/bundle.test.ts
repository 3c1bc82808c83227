import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EngineFunction } from '#infra/constructs/engine-function.js';

// The one test that really runs esbuild (locally, no Docker), to prove the bundle is what we ship.
describe('EngineFunction bundle', () => {
  it('is a minified ESM module with the createRequire banner and the rule sets beside it', () => {
    const app = new App();
    const stack = new Stack(app, 'BundleProbe');
    new EngineFunction(stack, 'Probe', {
      entry: 'functions/evaluate-snapshot.ts',
      description: 'bundle probe',
    });
    const assembly = app.synth();

    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    const dir = join(assembly.directory, assetDirs[0] as string);
    expect(existsSync(join(dir, 'index.js'))).toBe(false);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(
      code.startsWith(
        "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      ),
    ).toBe(true);
    expect(code).toMatch(/export\s*\{/);
    expect(code).not.toMatch(/module\.exports\s*=/);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    expect(readdirSync(join(dir, 'rulesets'))).toEqual(
      readdirSync(join(import.meta.dirname, '..', '..', 'rulesets')),
    );
  });
});
