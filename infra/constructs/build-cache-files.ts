import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files the Lambda build generates under `node_modules/.cache` (the Node built-in shims, the trimmed
 * aws-xray-sdk-core) are written here: only when their content changed, and aside then renamed, so
 * parallel builds (test workers, a synth bundling five functions) never read a half-written file.
 */
export function writeIfChanged(file: string, text: string | Buffer): void {
  const wanted = typeof text === 'string' ? Buffer.from(text) : text;
  if (existsSync(file) && readFileSync(file).equals(wanted)) return;
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, wanted);
  renameSync(partial, file);
}
