import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Another git revision's source tree, to bundle it the way that revision's construct bundled it
 * (bench/cold-invocation.ts `--base REV`): `git archive` of the revision into a temporary folder (no
 * second worktree registered in the repository), with this checkout's node_modules linked in, or with
 * the revision's own dependencies installed from its lockfile (`install`: a revision whose dependencies
 * this checkout no longer has). The caller must `remove()` it; `withRevisionTree` does.
 */
export interface RevisionTree {
  /** The full commit id the name resolved to. */
  commit: string;
  dir: string;
  remove(): void;
}

/** A bad `--base`: the revision does not resolve, or its tree cannot be extracted. */
export class RevisionTreeError extends Error {
  override readonly name = 'RevisionTreeError';
}

export function checkoutRevision(
  repoRoot: string,
  revision: string,
  dependencies: 'link' | 'install' = 'link',
): RevisionTree {
  let commit: string;
  try {
    commit = execFileSync(
      'git',
      ['-C', repoRoot, 'rev-parse', '--verify', '--quiet', `${revision}^{commit}`],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch (cause) {
    throw new RevisionTreeError(`--base: '${revision}' is not a commit of this repository`, { cause });
  }
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-base-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    // `git archive | tar -x`, without a shell: the archive is piped through this process.
    const tar = execFileSync('git', ['-C', repoRoot, 'archive', '--format=tar', commit], {
      maxBuffer: 1024 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    if (!existsSync(join(dir, 'package.json')))
      throw new RevisionTreeError(`--base: ${commit} has no package.json at its root`);
    if (dependencies === 'link')
      symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    else
      execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
  } catch (error) {
    remove();
    if (error instanceof RevisionTreeError) throw error;
    throw new RevisionTreeError(`--base: could not extract ${commit}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { commit, dir, remove };
}

/** Runs `use` on the revision's tree and removes the tree afterwards, whatever happens. */
export async function withRevisionTree<T>(
  repoRoot: string,
  revision: string,
  use: (tree: RevisionTree) => Promise<T>,
): Promise<T> {
  const tree = checkoutRevision(repoRoot, revision);
  try {
    return await use(tree);
  } finally {
    tree.remove();
  }
}
