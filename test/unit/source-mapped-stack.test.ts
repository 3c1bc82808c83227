import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeInvocation } from '#lib/observability.js';
import { mapErrorStack, sourceMappedStack } from '#lib/source-mapped-stack.js';

// A module bundled as the Lambda bundles are (minified ESM, a linked map without sources) and run in a
// plain Node process without `--enable-source-maps` (vitest maps traces itself): its stack traces point
// into the one minified line until mapped.
const SOURCE = `export function outer(): never {
  return inner('deep');
}

function inner(what: string): never {
  throw new Error(\`failed \${what}\`);
}
`;

let dir: string;
/** The stack of the bundle's error, as a fresh Node process without source maps prints it. */
let rawStack: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mapped-stack-'));
  writeFileSync(join(dir, 'thrower.ts'), SOURCE);
  buildSync({
    entryPoints: [join(dir, 'thrower.ts')],
    outfile: join(dir, 'out', 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'silent',
  });
  const url = pathToFileURL(join(dir, 'out', 'index.mjs')).href;
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `try { (await import('${url}')).outer() } catch (e) { process.stdout.write(e.stack) }`,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH } },
  );
  rawStack = child.stdout;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sourceMappedStack', () => {
  it('maps every bundled frame to its original file, line and column', () => {
    expect(rawStack).toMatch(/index\.mjs:1:\d+/);
    const mapped = sourceMappedStack(rawStack);
    // The throw (line 6, column 9) and the call to inner (line 2, column 10) in thrower.ts.
    expect(mapped).toMatch(/thrower\.ts:6:9\b/);
    expect(mapped).toMatch(/thrower\.ts:2:10\b/);
    expect(mapped).not.toMatch(/index\.mjs:/);
    expect(mapped.split('\n')[0]).toBe('Error: failed deep');
  });

  it('leaves frames of files without a map beside them as they were', () => {
    const stack = 'Error: x\n    at f (file:///nowhere/no-map.mjs:1:10)\n    at node:internal/x:2:3';
    expect(sourceMappedStack(stack)).toBe(stack);
  });
});

describe('observeInvocation', () => {
  it("maps an unexpected error's stack before Lambda reports it", () => {
    const error = Object.assign(new Error('failed deep'), { stack: rawStack });
    const onError = observeInvocation().onError;
    if (!onError) throw new Error('observeInvocation has no onError');
    void onError({ error } as Parameters<typeof onError>[0]);
    expect(error.stack).toMatch(/thrower\.ts:6:9\b/);
    // Mapping twice would find no bundled frame left; the stack stays mapped once.
    expect(mapErrorStack(error).stack).toBe(error.stack);
  });
});
