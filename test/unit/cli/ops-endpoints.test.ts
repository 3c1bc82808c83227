import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findEndpointsFile } from '#lib/cli/ops/targets.js';

describe('findEndpointsFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'ops-endpoints-'));
  const repo = join(root, 'repo');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(repo, 'lib', 'cli'), { recursive: true });
  writeFileSync(join(repo, 'package.json'), '{}');

  it('names the file at the package root when there is none yet (for the message)', () => {
    expect(findEndpointsFile(join(repo, 'lib', 'cli'))).toBe(join(repo, '.local', 'endpoints.json'));
  });

  it('finds the runtime from any subfolder, walking up to the package root', () => {
    mkdirSync(join(repo, '.local'));
    writeFileSync(join(repo, '.local', 'endpoints.json'), '{}');
    expect(findEndpointsFile(join(repo, 'lib', 'cli'))).toBe(join(repo, '.local', 'endpoints.json'));
    expect(findEndpointsFile(repo)).toBe(join(repo, '.local', 'endpoints.json'));
  });

  it('does not walk past the package root into a parent checkout', () => {
    mkdirSync(join(root, '.local'), { recursive: true });
    writeFileSync(join(root, '.local', 'endpoints.json'), '{}');
    const other = join(root, 'other');
    mkdirSync(join(other, 'sub'), { recursive: true });
    writeFileSync(join(other, 'package.json'), '{}');
    expect(findEndpointsFile(join(other, 'sub'))).toBe(join(other, '.local', 'endpoints.json'));
  });
});
