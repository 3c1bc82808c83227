import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lock file a runtime holds in its data dir while it runs. */
export const LOCK_FILE = 'runtime.lock';

/** A second runtime was pointed at a data dir another live runtime holds. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
    options?: { cause?: unknown },
  ) {
    super(
      `data dir ${dir} is in use by another exit-engine runtime (pid ${pid}); stop it first, or use another --data-dir`,
      options,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data dir for this process: one runtime per data dir. A lock whose pid is dead (a
 * runtime killed with -9) is stale and taken over; `staleFrom` reports it so the caller can say so.
 */
export function acquireDataDirLock(dir: string): { release(): void; staleFrom?: number } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const body = `${JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() })}\n`;
  let staleFrom: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, body, { flag: 'wx' });
      const release = () => {
        try {
          const held = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number };
          if (held.pid === process.pid) rmSync(path, { force: true });
        } catch {
          // Already gone.
        }
      };
      return staleFrom === undefined ? { release } : { release, staleFrom };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let pid: number | undefined;
      try {
        pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid;
      } catch {
        pid = undefined;
      }
      if (typeof pid === 'number' && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(dir, pid);
      staleFrom = pid;
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}: another runtime is starting at the same time`);
}
