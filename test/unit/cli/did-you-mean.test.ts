import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';

// A person typing a wrong command gets the nearest one, not only the usage text.
describe('a mistyped command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const stderrOf = async (argv: string[]) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const code = await main(argv);
    return { code, text: err.mock.calls.map((c) => String(c[0])).join('\n') };
  };

  it('names the nearest command', async () => {
    const { code, text } = await stderrOf(['signalz']);
    expect(code).toBe(2);
    expect(text).toContain("unknown command 'signalz'; did you mean 'signals'?");
  });

  it('names the nearest subcommand of signals', async () => {
    const { code, text } = await stderrOf(['signals', 'lst']);
    expect(code).toBe(2);
    expect(text).toContain("(got 'lst'); did you mean 'list'?");
  });
});
