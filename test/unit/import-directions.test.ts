import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Imports point with the flow (STYLE 14): outer rooms never import each other, and the contracts
 * sit at the bottom. Scans the source text, so `import type` counts too.
 */

const REPO = normalize(join(import.meta.dirname, '..', '..'));
const SUBPATHS: Record<string, string> = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).imports;

/** Every module specifier in a source text: static, side-effect, re-export and dynamic imports. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const forms = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const form of forms) for (const m of source.matchAll(form)) found.push(m[1]!);
  return found;
}

/** The repository path a specifier names (`lib/engine/ops.js`), or undefined for a package. */
function resolveSpecifier(fromFile: string, spec: string): string | undefined {
  if (spec.startsWith('.'))
    return relative(REPO, join(REPO, dirname(fromFile), spec))
      .split('\\')
      .join('/');
  for (const [pattern, target] of Object.entries(SUBPATHS)) {
    const prefix = pattern.replace(/\*$/, '');
    if (spec.startsWith(prefix)) return normalize(target.replace(/\*$/, '') + spec.slice(prefix.length));
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => relative(REPO, join(e.parentPath, e.name)).split('\\').join('/'));
}

/** Imports from files under `room` that land under a forbidden folder, as `file -> specifier`. */
function violations(
  room: string,
  forbidden: (target: string) => boolean,
): { scanned: number; bad: string[] } {
  const files = sourceFiles(room);
  const bad: string[] = [];
  for (const file of files) {
    for (const spec of specifiersOf(readFileSync(join(REPO, file), 'utf8'))) {
      const target = resolveSpecifier(file, spec);
      if (target !== undefined && forbidden(target)) bad.push(`${file} -> ${spec}`);
    }
  }
  return { scanned: files.length, bad };
}

const under =
  (...folders: string[]) =>
  (target: string) =>
    folders.some((f) => target === f || target.startsWith(`${f}/`));

describe('import directions', () => {
  it('finds every import form and resolves relative and #subpath specifiers', () => {
    const source = [
      "import type { OpsCommand } from '../../handlers/ops-handler.js';",
      "export { x } from '#lib/handlers/edge.js';",
      "import {\n  a,\n  b,\n} from '../../../bench/run.js';",
      "import '../setup.js';",
      "const m = await import('#functions/evaluate-snapshot.js');",
      "import { z } from 'zod';",
    ].join('\n');
    const specs = specifiersOf(source);
    expect(specs).toHaveLength(6);
    expect(new Set(specs.map((s) => resolveSpecifier('lib/cli/ops/targets.ts', s)))).toEqual(
      new Set([
        'lib/handlers/ops-handler.js',
        'lib/handlers/edge.js',
        'bench/run.js',
        'lib/cli/setup.js',
        'functions/evaluate-snapshot.js',
        undefined,
      ]),
    );
  });

  it('the CLI imports neither Lambda handlers, nor functions, nor benchmarks', () => {
    const { scanned, bad } = violations('lib/cli', under('lib/handlers', 'functions', 'bench'));
    expect(scanned).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('the application layer imports none of the rooms that call it', () => {
    const { scanned, bad } = violations(
      'lib/app',
      under('lib/handlers', 'lib/cli', 'lib/local', 'functions', 'bench'),
    );
    expect(scanned).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });

  it('the contracts import nothing of ours but other contracts', () => {
    const { scanned, bad } = violations('lib/contracts', (t) => !under('lib/contracts')(t));
    expect(scanned).toBeGreaterThan(3);
    expect(bad).toEqual([]);
  });

  it('the local runtime does not import the CLI', () => {
    const { scanned, bad } = violations('lib/local', under('lib/cli'));
    expect(scanned).toBeGreaterThan(3);
    expect(bad).toEqual([]);
  });

  // zod/v4/core is the core mini is built on: a factory imported from it by name leaves the rest out,
  // where `z.core.X` through the namespace keeps every schema of the core (lib/contracts/zod-shared.ts).
  it('the shipped code imports zod only as zod/mini, its core or its locales (classic zod puts its core and JSON Schema code into every cold start)', () => {
    const bad: string[] = [];
    let scanned = 0;
    for (const root of ['lib', 'functions']) {
      for (const file of sourceFiles(root)) {
        scanned++;
        for (const spec of specifiersOf(readFileSync(join(REPO, file), 'utf8')))
          if (/^zod(\/|$)/.test(spec) && !/^zod\/(mini|v4\/mini|v4\/core$|v4\/locales\/)/.test(spec))
            bad.push(`${file} -> ${spec}`);
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });

  it("the stores reach DynamoDB only through our document client: no value import of the SDK's DynamoDB client or lib-dynamodb outside the local runtime, the CLI and table creation", () => {
    // Type imports cost nothing (lib-dynamodb's shapes are the document client's); the local runtime,
    // the CLI and create-tables.ts keep the SDK for table creation, TTL and local scans.
    const allowed = (file: string) =>
      file.startsWith('lib/local/') ||
      file.startsWith('lib/cli/') ||
      file === 'lib/adapters/dynamodb/create-tables.ts';
    const valueImport =
      /\bimport\s+(?!type\b)[^;]*?\bfrom\s*['"](@aws-sdk\/(?:client-dynamodb|lib-dynamodb))['"]/g;
    const bad: string[] = [];
    let scanned = 0;
    for (const root of ['lib', 'functions']) {
      for (const file of sourceFiles(root)) {
        scanned++;
        if (allowed(file)) continue;
        for (const m of readFileSync(join(REPO, file), 'utf8').matchAll(valueImport))
          bad.push(`${file} -> ${m[1]}`);
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(bad).toEqual([]);
    expect(
      [
        ..."import { GetCommand } from '@aws-sdk/lib-dynamodb';\nimport type { X } from '@aws-sdk/client-dynamodb';".matchAll(
          valueImport,
        ),
      ].map((m) => m[1]),
    ).toEqual(['@aws-sdk/lib-dynamodb']);
  });

  it('a relative import stays in its room; one that leaves it uses a #subpath (#lib/…, #test/…)', () => {
    // A room is a top-level folder and its first subfolder (lib/rules, test/unit); functions is one room.
    const roomOf = (file: string) =>
      file
        .split('/')
        .slice(0, file.split('/').length > 2 ? 2 : 1)
        .join('/');
    const mapped = Object.values(SUBPATHS).map((t) => normalize(t.replace(/\/\*$/, '')));
    const bad: string[] = [];
    let scanned = 0;
    for (const root of ['lib', 'functions', 'infra', 'test']) {
      for (const file of sourceFiles(root)) {
        scanned++;
        for (const spec of specifiersOf(readFileSync(join(REPO, file), 'utf8'))) {
          if (!spec.startsWith('.')) continue;
          const target = resolveSpecifier(file, spec)!;
          if (!under(roomOf(file))(target) && mapped.some((m) => under(m)(target)))
            bad.push(`${file} -> ${spec}`);
        }
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });
});
