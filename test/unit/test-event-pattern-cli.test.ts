import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command } from '#lib/cli/commands/test-event-pattern.js';
import { main } from '#lib/cli/main.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/event-pattern/${name}`, import.meta.url));

describe('test-event-pattern command', () => {
  let printed: string[];
  let errors: string[];

  beforeEach(() => {
    printed = [];
    errors = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints true when the event matches', async () => {
    const code = await command.run([
      '--pattern',
      fixture('pattern-snapshot.json'),
      '--event',
      fixture('event-match.json'),
    ]);
    expect(code).toBe(0);
    expect(printed).toEqual(['true']);
  });

  it('prints false when it does not', async () => {
    const code = await command.run([
      '--pattern',
      fixture('pattern-snapshot.json'),
      '--event',
      fixture('event-no-match.json'),
    ]);
    expect(code).toBe(0);
    expect(printed).toEqual(['false']);
  });

  it.each([
    [
      'an invalid pattern',
      'pattern-invalid.json',
      'event-match.json',
      /pattern-invalid\.json: Invalid event pattern at \$\.source/,
    ],
    ['unparsable pattern JSON', 'broken.txt', 'event-match.json', /--pattern .*broken\.txt: not valid JSON/],
    ['unparsable event JSON', 'pattern-snapshot.json', 'broken.txt', /--event .*broken\.txt: not valid JSON/],
    [
      'a missing file',
      'no-such-file.json',
      'event-match.json',
      /no-such-file\.json: cannot read file \(ENOENT\)/,
    ],
    [
      'a non-object event',
      'pattern-snapshot.json',
      'event-array.json',
      /event-array\.json: the event must be a JSON object/,
    ],
  ])('refuses %s with a UsageError naming the file', async (_name, pattern, event, message) => {
    const run = command.run(['--pattern', fixture(pattern), '--event', fixture(event)]);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(message);
  });

  it('requires both flags', async () => {
    await expect(command.run(['--pattern', fixture('pattern-snapshot.json')])).rejects.toThrow(
      /--event is required/,
    );
  });

  it('exits 2 with the message through the CLI entry point', async () => {
    const code = await main([
      'test-event-pattern',
      '--pattern',
      fixture('pattern-invalid.json'),
      '--event',
      fixture('event-match.json'),
    ]);
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/pattern-invalid\.json/);
    expect(printed).toEqual([]);
  });
});
