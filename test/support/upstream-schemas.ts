import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Upstream's contracts, vendored in the repository (`contracts/qmtl`, provenance in its README). */
export const UPSTREAM_CONTRACTS = resolve(import.meta.dirname, '../../contracts/qmtl');

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(UPSTREAM_CONTRACTS, name), 'utf8'));
}

/** A draft 2020-12 validator with every upstream schema registered (so `$ref`s resolve). */
export function upstreamValidator() {
  // ajv ships CommonJS: under NodeNext the class is the module's `default`.
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const name of [
    'portfolio_snapshot.schema.json',
    'event_risk_snapshot_updated.schema.json',
    'event_exit_signal_emitted.schema.json',
  ]) {
    ajv.addSchema(load(name));
  }
  const exitSignal = ajv.getSchema('https://qmtl.dev/schemas/event_exit_signal_emitted.schema.json')!;
  const riskSnapshot = ajv.getSchema('https://qmtl.dev/schemas/event_risk_snapshot_updated.schema.json')!;
  const errors = (v: { errors?: unknown }) => JSON.stringify(v.errors ?? [], null, 1);
  return {
    /** Validates an exit_signal_emitted CloudEvent; returns the errors text or '' when valid. */
    exitSignal(event: unknown): string {
      return exitSignal(event) ? '' : errors(exitSignal);
    },
    riskSnapshot(event: unknown): string {
      return riskSnapshot(event) ? '' : errors(riskSnapshot);
    },
  };
}
