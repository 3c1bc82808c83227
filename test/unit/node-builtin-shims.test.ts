import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinAliases } from '#infra/constructs/node-builtin-shims.js';

/**
 * The shims against the reference, Node's own built-ins: each is imported in a fresh Node process, as the
 * bundle's code would reach it, and every export compared by identity with the built-in's property.
 */
describe('Node built-in shims of the Lambda bundles', () => {
  it('export every property of each built-in as the built-in has it, under both spellings', () => {
    const root = mkdtempSync(join(tmpdir(), 'builtin-shims-'));
    try {
      const aliases = builtinAliases(root);
      const shimmed = builtinModules.filter((name) => `node:${name}` in aliases);
      // Every public built-in but the three that warn when loaded.
      expect(builtinModules.filter((n) => !n.startsWith('_') && !shimmed.includes(n)).sort()).toEqual([
        'punycode',
        'sys',
        'wasi',
      ]);
      const check = `
        const [root, aliases] = [process.argv[1], JSON.parse(process.argv[2])];
        const { createRequire } = process.getBuiltinModule('node:module');
        const require = createRequire(root + '/');
        const problems = [];
        for (const [spec, path] of Object.entries(aliases)) {
          const name = spec.replace(/^node:/, '');
          const real = process.getBuiltinModule('node:' + name);
          const file = root + '/' + path.slice(2);
          const shim = file.endsWith('.mjs') ? await import(file) : require(file);
          if (file.endsWith('.mjs') && shim.default !== real) problems.push(spec + ': default');
          const exported = Object.keys(shim).filter((k) => k !== 'default');
          for (const key of exported) if (!Object.is(shim[key], real[key])) problems.push(spec + ': ' + key);
          // Every property is exported; \`process\` has a few of its own per process (\`_eval\` under -e).
          for (const key of Object.keys(real).filter((k) => /^[A-Za-z_$][\\w$]*$/.test(k) && k !== 'default'))
            if (!exported.includes(key) && name !== 'process') problems.push(spec + ': missing ' + key);
        }
        console.log(JSON.stringify(problems));`;
      const run = spawnSync(
        process.execPath,
        ['--input-type=module', '--no-warnings', '-e', check, root, JSON.stringify(aliases)],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('load node:stream/web on first use only, and then give its own classes', () => {
    const root = mkdtempSync(join(tmpdir(), 'builtin-shims-'));
    try {
      const path = builtinAliases(root)['node:stream/web'] as string;
      expect(path.endsWith('.cjs')).toBe(true);
      const check = `
        const { createRequire } = process.getBuiltinModule('node:module');
        const loaded = () => process.moduleLoadList.some((m) => m.includes('internal/webstreams/readablestream'));
        const shim = createRequire(import.meta.url)(process.argv[1]);
        const before = loaded();
        const same = shim.ReadableStream === process.getBuiltinModule('node:stream/web').ReadableStream;
        console.log(JSON.stringify({ before, same, after: loaded() }));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', check, join(root, path)], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ before: false, same: true, after: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
