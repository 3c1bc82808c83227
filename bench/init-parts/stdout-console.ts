import { Console } from 'node:console';

/**
 * A Console on stdout and stderr, as Powertools' Logger and Metrics each build one: reading
 * `process.stdout` creates the stream. Every invocation writes to it (the metrics flush at least).
 */
export const out = new Console({ stdout: process.stdout, stderr: process.stderr });
