import { readFile } from 'node:fs/promises';
import { compileEventPattern, InvalidEventPatternError } from '#lib/local/event-pattern.js';
import { type CliCommand, parseFlags, requiredFlag, UsageError } from '../args.js';

/** Reads and parses a JSON file, naming the file and the problem when it cannot. */
async function readJsonFile(flag: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--${flag} ${file}: cannot read file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${flag} ${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** `exit-engine test-event-pattern`: prints whether an event matches a pattern, like `aws events test-event-pattern`. */
export const command: CliCommand = {
  name: 'test-event-pattern',
  summary: 'Print true or false: does the event in --event match the EventBridge pattern in --pattern?',
  usage: 'exit-engine test-event-pattern --pattern FILE --event FILE',
  async run(argv) {
    const { values } = parseFlags(argv, { pattern: { type: 'string' }, event: { type: 'string' } });
    const patternFile = requiredFlag('pattern', values.pattern);
    const eventFile = requiredFlag('event', values.event);
    const pattern = await readJsonFile('pattern', patternFile);
    const event = await readJsonFile('event', eventFile);
    let match: (event: unknown) => boolean;
    try {
      match = compileEventPattern(pattern);
    } catch (error) {
      if (error instanceof InvalidEventPatternError)
        throw new UsageError(`--pattern ${patternFile}: ${error.message}`, { cause: error });
      throw error;
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new UsageError(`--event ${eventFile}: the event must be a JSON object`);
    }
    console.log(String(match(event)));
    return 0;
  },
};
