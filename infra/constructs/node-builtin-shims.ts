import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { writeIfChanged } from './build-cache-files.js';

/**
 * Node's built-ins in the Lambda bundles without their ES module facades (infra/constructs/lambda-bundling.ts
 * aliases every built-in to a shim written here).
 *
 * An ES module `import … from 'node:crypto'` makes Node build the built-in's facade: a module record that
 * reads every export at link time, lazy getters included, so `node:crypto`'s facade loads WebCrypto and
 * `node:fs`'s its promises and streams, whatever the code uses. The shims take the built-in with
 * `process.getBuiltinModule` (Node >= 20.16 and 22.3; Lambda's Node.js 22 has it) and export each of its
 * properties as a pure expression, so esbuild keeps only what the bundle imports, read where it is used.
 * Measured in fresh processes, 61 alternating pairs: the evaluate-snapshot bundle's init ×0.90 (lower in
 * 51); the built-ins it imports, alone, 26.5 → 17.8 ms CPU (21 pairs).
 *
 * - `node:NAME` (what ES modules import) → an ES module shim exporting each property by name. A name the
 *   building Node does not have fails the build (esbuild: no matching export); the names are those of the
 *   Node that builds (Node 20 here and in CI, 22 in Lambda: the same for every name the bundles import).
 * - `NAME` (what CommonJS dependencies `require`) → `module.exports = process.getBuiltinModule(…)`:
 *   the built-in itself, as `require` returns it.
 * - `stream/web` → loaded on first use (`LAZY`).
 *
 * The shims live under `node_modules/.cache`, rewritten when the building Node's list differs, not in the
 * repository: which built-ins exist and what they export is Node's list, not ours.
 */
export function builtinAliases(projectRoot: string): Record<string, string> {
  const dir = join(projectRoot, 'node_modules', '.cache', 'lambda-node-builtins');
  const aliases: Record<string, string> = {};
  for (const name of builtinModules) {
    if (name.startsWith('_') || UNSHIMMED.has(name)) continue;
    const base = join(dir, name.replaceAll('/', '+'));
    if (LAZY.has(name)) {
      aliases[name] = aliases[`node:${name}`] = writeShim(projectRoot, `${base}.cjs`, lazyShim(name));
      continue;
    }
    aliases[`node:${name}`] = writeShim(projectRoot, `${base}.mjs`, esmShim(name));
    aliases[name] = writeShim(projectRoot, `${base}.cjs`, `module.exports = ${load(name)};\n`);
  }
  return aliases;
}

/**
 * Left to Node's own loader: loading these warns (deprecated `sys` and `punycode`, experimental `wasi`),
 * which would print in every build; the bundles do not import them. Underscored names (`_http_agent`, …)
 * are Node's internals kept for old packages; skipped as well.
 */
const UNSHIMMED = new Set(['sys', 'punycode', 'wasi']);

/**
 * Built-ins loaded on first use: `stream/web`, which `@middy/core` imports for one `instanceof` on its
 * response-streaming path (the functions do not stream) and nothing else in the bundles uses. Importing it
 * loads Node's web streams at init (~2 ms), for nothing. Its shim is CommonJS with one getter per export
 * (esbuild reads a CommonJS export where the code uses it).
 */
const LAZY = new Set(['stream/web']);

const load = (name: string) => `process.getBuiltinModule(${JSON.stringify(`node:${name}`)})`;

function exportNames(name: string): string[] {
  const module = process.getBuiltinModule(`node:${name}`) as object;
  return Object.keys(module)
    .filter((key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key))
    .sort();
}

function esmShim(name: string): string {
  const names = exportNames(name);
  return [
    `const m = ${load(name)};`,
    'export default m;',
    ...names.map((key, i) => `const e${i} = /* @__PURE__ */ (() => m.${key})();`),
    `export { ${names.map((key, i) => `e${i} as ${key}`).join(', ')} };`,
    '',
  ].join('\n');
}

function lazyShim(name: string): string {
  return [
    'let loaded;',
    `const load = () => (loaded ??= ${load(name)});`,
    `for (const name of ${JSON.stringify(exportNames(name))})`,
    '  Object.defineProperty(module.exports, name, { enumerable: true, get: () => load()[name] });',
    '',
  ].join('\n');
}

/** Writes `text` to `file` unless it holds it already; returns the alias target (project-relative). */
function writeShim(projectRoot: string, file: string, text: string): string {
  writeIfChanged(file, text);
  return `./${relative(projectRoot, file)}`;
}
