/** Node's `https` (with `http`, `tls`, `net`, `crypto`): what lib/adapters/aws-json.ts calls AWS over. */
export { request } from 'node:https';
