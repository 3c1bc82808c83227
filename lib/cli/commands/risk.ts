import { InputError, loadSnapshotFile } from '#lib/cli/load-input.js';
import { buildRiskReport, RiskInputError } from '#lib/risk/index.js';
import { type CliCommand, numberFlag, parseFlags, requiredFlag } from '../args.js';

/** `exit-engine risk`: prints the risk report of a snapshot file as JSON. */
export const command: CliCommand = {
  name: 'risk',
  summary:
    'Print the risk report (σ, VaR and ES under normal, Student-t, Cornish–Fisher and historical models, drawdown, per-strategy contributions) of a snapshot file: bare, CloudEvent or EventBridge event.',
  usage: 'exit-engine risk --snapshot FILE [--confidence 0.99] [--horizon 1] [--dof N] [--with-mean]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      snapshot: { type: 'string' },
      confidence: { type: 'string' },
      horizon: { type: 'string' },
      dof: { type: 'string' },
      'with-mean': { type: 'boolean' },
    });
    const file = requiredFlag('snapshot', values.snapshot);
    const confidence = numberFlag('confidence', values.confidence, 0.99, {
      min: 0.5,
      max: 1,
      exclusiveMax: true,
    });
    const horizon = numberFlag('horizon', values.horizon, 1, { min: 0, exclusiveMin: true });
    const dof =
      values.dof === undefined ? undefined : numberFlag('dof', values.dof, 0, { min: 2, exclusiveMin: true });
    try {
      // A missing file (ENOENT) propagates: main reports it without a stack trace.
      const snapshot = await loadSnapshotFile(file);
      const report = buildRiskReport(snapshot, {
        confidence,
        horizon,
        dof,
        withMean: values['with-mean'] === true,
      });
      console.log(JSON.stringify(report, null, 2));
      return 0;
    } catch (error) {
      // Bad data, not a bad call: the message names the file and the problem; no usage text.
      if (error instanceof InputError) {
        console.error(`exit-engine risk: ${error.message}`);
        return 1;
      }
      if (error instanceof RiskInputError) {
        console.error(`exit-engine risk: ${file}: ${error.message}`);
        return 1;
      }
      throw error;
    }
  },
};
