import { describe, expect, it } from 'vitest';
import { callgrindArgs, profileMillions } from '../../bench/callgrind.js';

// A callgrind profile as valgrind writes it (valgrind.org/docs/manual/cl-format.html): names compressed
// to `(id)` after their first use, `calls=` lines followed by the call's inclusive cost, relative (`+n`)
// and repeated (`*`) positions. The hash-seed function costs 30 + 400 (its call of sprp) + 7 = 437.
const PROFILE = `# callgrind format
version: 1
creator: callgrind-3.19.0
events: Ir
fl=(1) ???
fn=(1) main
10 1000000
cfn=(2) v8::internal::HashSeed::InitializeRoots(v8::internal::Isolate*)
calls=1 0
12 437
cfn=(3) v8::internal::Scanner::Next()
calls=5 0
13 2000000
fn=(2)
0 30
cfn=(4) detail::sprp(unsigned long long, unsigned long long)
calls=100 0
+1 400
* 7
fn=(4)
0 400
fn=(3)
0 2000000
totals: 3000437
`;

describe('bench/callgrind.ts: instructions from a callgrind profile', () => {
  it("subtracts the hash seed's random prime search, inclusive of what it calls", () => {
    expect(profileMillions(PROFILE)).toBeCloseTo(3, 12);
  });

  it('subtracts what it is told to, and nothing where the function is absent', () => {
    expect(profileMillions(PROFILE, /^v8::internal::Scanner::Next/)).toBeCloseTo(1.000437, 12);
    expect(profileMillions(PROFILE, /^no such function$/)).toBeCloseTo(3.000437, 12);
  });

  it('is undefined for a text that is no profile', () => {
    expect(profileMillions('')).toBeUndefined();
    expect(profileMillions('==1== Collected : 12\n')).toBeUndefined();
  });

  it('has valgrind write the profile where it is asked to', () => {
    expect(callgrindArgs('/tmp/x.callgrind')).toEqual([
      '--tool=callgrind',
      '--callgrind-out-file=/tmp/x.callgrind',
    ]);
  });
});
