import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE } from '#lib/local/data-dir-lock.js';

describe('acquireDataDirLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'exit-engine-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the dir with this pid and gives it back', () => {
    const lock = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a dir a live process holds, naming its pid', () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid }));
      expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
      expect(() => acquireDataDirLock(dir)).toThrow(
        `in use by another exit-engine runtime (pid ${other.pid})`,
      );
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a stale lock whose process is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: gone }));
    const lock = acquireDataDirLock(dir);
    expect(lock.staleFrom).toBe(gone);
    lock.release();
  });
});
