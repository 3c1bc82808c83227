import * as z from 'zod/mini';
import { EXIT_SIGNAL_DETAIL_TYPE, EXIT_SIGNAL_PROPOSED_DETAIL_TYPE } from './exit-signal-ids.js';
import { isoDateTime } from './zod-shared.js';

/**
 * Outbound contract: upstream's `exit_signal_emitted` (contracts/qmtl/event_exit_signal_emitted.schema.json).
 * Strict objects: upstream forbids unknown keys in `data` and in each signal, so anything extra
 * must ride in `tags`, `metrics` or `provenance`.
 */

export {
  EXIT_ENGINE_SOURCE,
  EXIT_SIGNAL_DETAIL_TYPE,
  EXIT_SIGNAL_PROPOSED_DETAIL_TYPE,
  exitSignalIdempotencyKey,
} from './exit-signal-ids.js';

export const SignalActionSchema = z.enum(['exit', 'reduce', 'hold']);
export type SignalAction = z.infer<typeof SignalActionSchema>;

const ratio = z.number().check(z.gte(0), z.lte(1));

export const ExitSignalSchema = z.strictObject({
  strategy_id: z.string(),
  action: SignalActionSchema,
  reduction_ratio: z.optional(ratio),
  reason: z.optional(z.string()),
  metrics: z.optional(z.record(z.string(), z.unknown())),
  tags: z.optional(z.array(z.string())),
});
export type ExitSignal = z.infer<typeof ExitSignalSchema>;

/** The CloudEvents envelope fields both our outbound events share (`type` and `data` differ). */
const envelopeShape = {
  specversion: z.literal('1.0'),
  id: z.string(),
  source: z.string(),
  time: isoDateTime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  correlation_id: z.string(),
};

/** The snapshot-identifying `data` fields both our outbound events share. */
const dataShape = {
  world_id: z.string(),
  as_of: isoDateTime({ offset: true }),
  snapshot_version: z.string(),
  event_version: z.number().check(z.int(), z.gte(1)),
  idempotency_key: z.string(),
  provenance: z.optional(z.record(z.string(), z.unknown())),
};

export const ExitSignalEventSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal(EXIT_SIGNAL_DETAIL_TYPE),
  data: z.strictObject({ ...dataShape, signals: z.array(ExitSignalSchema).check(z.minLength(1)) }),
});
export type ExitSignalEvent = z.infer<typeof ExitSignalEventSchema>;

/** Our own `exit_signal_proposed` (schemas/exit_signal_proposed.schema.json): approval-mode signals. */
export const ExitSignalProposalSchema = z.strictObject({
  signal_id: z.string(),
  strategy_id: z.string(),
  action: SignalActionSchema,
  reduction_ratio: ratio,
  reason: z.string(),
  metrics: z.optional(z.record(z.string(), z.unknown())),
  tags: z.optional(z.array(z.string())),
  approval_deadline: isoDateTime({ offset: true }),
  default_on_timeout: z.enum(['emit', 'drop']),
  four_eyes: z.boolean(),
});

export const ExitSignalProposedEventSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal(EXIT_SIGNAL_PROPOSED_DETAIL_TYPE),
  data: z.strictObject({
    ...dataShape,
    proposals: z.array(ExitSignalProposalSchema).check(z.minLength(1)),
  }),
});
export type ExitSignalProposedEvent = z.infer<typeof ExitSignalProposedEventSchema>;

/** Any CloudEvent the engine puts on the bus. */
export type EngineEvent = ExitSignalEvent | ExitSignalProposedEvent;
