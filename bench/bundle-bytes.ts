import type { Metafile } from 'esbuild';

/** What a bundle's metafile says a cold start loads (bench/pipeline.bench.ts, bench/cold-start.ts). */

/**
 * The output of the metafile that holds `input` (a path relative to the project root; also found where
 * the bundled tree reached it through a link, as `--base` trees reach this checkout's node_modules).
 */
export function outputHolding(metafile: Metafile, input: string): string | undefined {
  return Object.entries(metafile.outputs).find(
    ([, o]) => input in o.inputs || Object.keys(o.inputs).some((i) => i.endsWith(`/${input}`)),
  )?.[0];
}

/** KB of JavaScript a cold start loads, tracing off and on (the Tracer's chunk with it). */
export function loadedKb(metafile: Metafile): { off: number; on: number } {
  return {
    off: loadedBytes(metafile) / 1024,
    on: loadedBytes(metafile, [outputHolding(metafile, TRACER_INPUT)]) / 1024,
  };
}

/**
 * Bytes of the JavaScript a cold start loads: the entry and what it imports statically, plus, for
 * `alsoLoaded` (e.g. the Tracer's chunk where tracing is on), those chunks and their static imports.
 * Chunks reached only through `import()` are not loaded until called.
 */
export function loadedBytes(metafile: Metafile, alsoLoaded: readonly (string | undefined)[] = []): number {
  const entry = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint !== undefined)?.[0];
  const seen = new Set<string>();
  const visit = (path: string | undefined) => {
    if (path === undefined || seen.has(path) || !metafile.outputs[path]) return;
    seen.add(path);
    for (const imp of metafile.outputs[path].imports)
      if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(entry);
  for (const path of alsoLoaded) visit(path);
  let bytes = 0;
  for (const path of seen) bytes += metafile.outputs[path]!.bytes;
  return bytes;
}

/** Bytes of every JavaScript file of the bundle (source maps aside). */
export function allBytes(metafile: Metafile): number {
  let bytes = 0;
  for (const [path, o] of Object.entries(metafile.outputs)) if (path.endsWith('.mjs')) bytes += o.bytes;
  return bytes;
}

/** The Tracer's chunk: loaded at cold start where tracing is on (lib/observability.ts). */
export const TRACER_INPUT = 'node_modules/@aws-lambda-powertools/tracer/lib/esm/Tracer.js';
