import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotEventSchema } from '#lib/app/snapshot-edge.js';
import { snapshotEvent } from '../../bench/cold-invocation.js';
import { checkoutRevision, RevisionTreeError, withRevisionTree } from '../../bench/revision-tree.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the cold invocation event', () => {
  it('is a hub snapshot the snapshot function accepts at its edge', () => {
    const event = snapshotEvent('cold-w', 0.014, 1, Date.parse('2026-12-02T04:00:00Z'));
    const parsed = SnapshotEventSchema.safeParse(event);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(event.time).toBe('2026-12-02T04:00:00Z');
    expect(Object.keys((event.detail as { data: { weights: object } }).data.weights)).toHaveLength(20);
  });
});

describe('checkoutRevision (--base REV)', () => {
  it("extracts the revision's tree with this checkout's node_modules linked, and removes it", () => {
    const tree = checkoutRevision(ROOT, 'HEAD');
    try {
      expect(tree.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(JSON.parse(readFileSync(join(tree.dir, 'package.json'), 'utf8')).name).toBe('exit-engine');
      expect(existsSync(join(tree.dir, 'infra', 'constructs', 'lambda-bundling.ts'))).toBe(true);
      expect(existsSync(join(tree.dir, 'node_modules', 'esbuild'))).toBe(true);
    } finally {
      tree.remove();
    }
    expect(existsSync(tree.dir)).toBe(false);
    // The link went with the folder, not what it pointed to.
    expect(existsSync(join(ROOT, 'node_modules', 'esbuild'))).toBe(true);
  });

  it('names the flag and the revision when the revision does not resolve', () => {
    expect(() => checkoutRevision(ROOT, 'no-such-revision-xyz')).toThrow(RevisionTreeError);
    expect(() => checkoutRevision(ROOT, 'no-such-revision-xyz')).toThrow(
      "--base: 'no-such-revision-xyz' is not a commit of this repository",
    );
  });

  it('removes the tree when the work on it fails', async () => {
    let dir = '';
    await expect(
      withRevisionTree(ROOT, 'HEAD', async (tree) => {
        dir = tree.dir;
        throw new Error('bench failed');
      }),
    ).rejects.toThrow('bench failed');
    expect(dir).not.toBe('');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('bench/cold-start.ts command line', () => {
  it('refuses a mistyped flag with a did-you-mean, and a bad round count naming the flag', async () => {
    const { main } = await import('../../bench/cold-start.js');
    await expect(main(['--bse', '31dd6a5'])).rejects.toThrow("Unknown option '--bse'; did you mean 'base'?");
    await expect(main(['--rounds', '0'])).rejects.toThrow("--rounds: must be at least 1 (got '0')");
  });

  it('refuses --instructions without a --base to compare with', async () => {
    const { main } = await import('../../bench/cold-start.js');
    await expect(main(['--instructions'])).rejects.toThrow(
      '--instructions compares two trees: give --base REV',
    );
  });

  it('refuses a --node that is not a Node binary, naming the flag and the path', async () => {
    const { main } = await import('../../bench/cold-start.js');
    await expect(main(['--node', '/nonexistent/node'])).rejects.toThrow(
      '--node /nonexistent/node: not a Node binary that runs',
    );
    await expect(main(['--node', '/bin/false'])).rejects.toThrow(
      '--node /bin/false: not a Node binary that runs (exit 1)',
    );
  });
});
