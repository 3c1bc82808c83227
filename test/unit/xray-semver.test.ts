import { describe, expect, it } from 'vitest';
import { gte } from '#lib/adapters/xray-semver.js';

describe('gte (the semver function the Lambda bundle keeps for aws-xray-sdk-core)', () => {
  it('compares major, minor and patch numerically', () => {
    expect(gte('2.7.15', '2.7.15')).toBe(true);
    expect(gte('2.10.0', '2.7.15')).toBe(true);
    expect(gte('3.0.0', '2.7.15')).toBe(true);
    expect(gte('2.7.14', '2.7.15')).toBe(false);
    expect(gte('1.99.99', '2.7.15')).toBe(false);
  });

  it('ignores pre-release and build suffixes of the patch', () => {
    expect(gte('2.7.15-beta.1', '2.7.15')).toBe(true);
    expect(gte('2.7', '2.7.0')).toBe(true);
  });
});
