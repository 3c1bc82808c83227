import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Validates our own exit_signal_proposed against its published schema. */
export const proposedEventValidator = () => {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync('schemas/exit_signal_proposed.schema.json', 'utf8')));
};
