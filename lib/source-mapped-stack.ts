import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces mapped through the bundle's source maps on demand. `--enable-source-maps` makes Node
 * parse every loaded file's map at load, ~50 ms of each cold start for our 860 KB of maps (README, cold
 * start), to serve stack traces that only an unexpected error ever prints. Here the map of a file is read
 * the first time a stack through that file is mapped (the first unexpected error of a process), and
 * kept. A frame in a file without a map beside it (`<file>.map`), or at a position the map does not
 * cover, is left as it was.
 */

const maps = new Map<string, SourceMap | null>();

function mapBeside(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** `file:///var/task/index.mjs:1:2345` or `/var/task/chunks/x.mjs:1:2345` in a V8 stack frame. */
const FRAME_POSITION = /(file:\/\/\/[^\s()]+?\.m?js|\/[^\s():]+?\.m?js):(\d+):(\d+)/g;

/** The map's source path without the `../` that lead from the output folder to the project. */
function readableSource(source: string): string {
  return source.replace(/^(?:\.\.\/)+/, '');
}

/**
 * `stack` with every frame position in a bundled file replaced by its original source position
 * (`lib/engine/evaluate.ts:120:7`). Frames elsewhere (Node internals, unbundled `.ts`) are unchanged.
 */
export function sourceMappedStack(stack: string): string {
  return stack.replace(FRAME_POSITION, (whole, file: string, line: string, column: string) => {
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    const entry = mapBeside(path)?.findEntry(Number(line) - 1, Number(column) - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (entry?.originalSource === undefined || entry.originalLine === undefined) return whole;
    return `${readableSource(entry.originalSource)}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
  });
}

/** Rewrites `error.stack` through the source maps (once per error); returns the error. */
export function mapErrorStack<T>(error: T): T {
  if (error instanceof Error && typeof error.stack === 'string' && !mapped.has(error)) {
    mapped.add(error);
    error.stack = sourceMappedStack(error.stack);
  }
  return error;
}

const mapped = new WeakSet<Error>();
