import { join } from 'node:path';
import { DEAD_LETTERS_FILE, readDeadLetters } from '#lib/local/dead-letter-log.js';
import { type CliCommand, parseFlags } from '../args.js';
import { DEFAULT_DEAD_LETTERS } from './local.js';

/** `exit-engine dead-letters`: what the local runtime could not deliver, from its data dir. */
export const command: CliCommand = {
  name: 'dead-letters',
  summary:
    "Lists the local runtime's dead letters (deliveries that ran out of retries, e.g. to a --forward webhook), oldest first, from its data dir (or .local/ for a runtime without --data-dir); works while it runs and after it stopped. --json prints each record with the full event, for a redrive.",
  usage: 'exit-engine dead-letters [--data-dir DIR] [--json]',
  async run(argv) {
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
    const path =
      values['data-dir'] === undefined ? DEFAULT_DEAD_LETTERS : join(values['data-dir'], DEAD_LETTERS_FILE);
    const { records, damaged } = readDeadLetters(path);
    if (values.json) {
      for (const r of records) console.log(JSON.stringify(r));
    } else if (records.length === 0) {
      console.log(`no dead letters in ${path}`);
    } else {
      for (const r of records)
        console.log(
          `${r.at} ${r.rule}/${r.target} ${r.detail_type}${r.world_id ? ` ${r.world_id}` : ''}${r.idempotency_key ? ` ${r.idempotency_key}` : ''} event ${r.event_id} after ${r.attempts} attempt(s): ${r.error}`,
        );
      console.log(`${records.length} dead letter(s) in ${path}`);
    }
    if (damaged.length > 0) {
      console.error(`exit-engine dead-letters: ${path}: line(s) ${damaged.join(', ')} are not valid JSON`);
      return 1;
    }
    return 0;
  },
};
