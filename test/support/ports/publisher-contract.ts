import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EngineEvent, EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal.js';
import { PublishError } from '#lib/engine/errors.js';
import type { SignalPublisher } from '#lib/engine/ports.js';

/**
 * One behavioural suite for the SignalPublisher port: every event put on the bus exactly once, as
 * the CloudEvent in `detail`, and every PutEvents result entry read — failed entries retried
 * alone, and what still fails thrown as a retryable PublishError.
 */

/** What reached the bus: its source, detail-type and detail. */
export interface Delivered {
  source: string;
  detailType: string;
  detail: unknown;
}

export interface PublisherSubject {
  publisher: SignalPublisher;
  /** Every event the bus accepted, in order. */
  delivered(): Promise<Delivered[]>;
  /** The bus answers the next `count` entries with a failed result entry carrying `errorCode`. */
  failNextEntries(count: number, errorCode: string): void;
  close?(): Promise<void>;
}

function event(i: number, type = 'exit_signal_emitted'): EngineEvent {
  return {
    specversion: '1.0',
    id: `evt-${i}`,
    source: EXIT_ENGINE_SOURCE,
    type,
    time: '2025-03-10T21:00:31.000Z',
    data: { world_id: 'w1', n: i },
  } as unknown as EngineEvent;
}

export function publisherContract(name: string, make: () => Promise<PublisherSubject>): void {
  describe(`SignalPublisher contract: ${name}`, () => {
    let s: PublisherSubject;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close?.();
    });

    it('puts each event once, as the detail, from the engine source, typed by its CloudEvent type', async () => {
      await s.publisher.publish([event(1), event(2, 'exit_signal_proposed')]);
      expect(await s.delivered()).toEqual([
        { source: EXIT_ENGINE_SOURCE, detailType: 'exit_signal_emitted', detail: event(1) },
        {
          source: EXIT_ENGINE_SOURCE,
          detailType: 'exit_signal_proposed',
          detail: event(2, 'exit_signal_proposed'),
        },
      ]);
    });

    it('puts more events than one PutEvents call takes, each once', async () => {
      const events = Array.from({ length: 23 }, (_, i) => event(i));
      await s.publisher.publish(events);
      const ids = (await s.delivered()).map((d) => (d.detail as { id: string }).id);
      expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    });

    it('retries only the failed entries, so nothing is put twice', async () => {
      s.failNextEntries(2, 'ThrottlingException');
      await s.publisher.publish([event(1), event(2), event(3)]);
      const ids = (await s.delivered()).map((d) => (d.detail as { id: string }).id);
      expect(ids.sort()).toEqual(['evt-1', 'evt-2', 'evt-3']);
    });

    it('throws a retryable PublishError naming the entries that kept failing', async () => {
      s.failNextEntries(1_000, 'InternalFailure');
      const error = await s.publisher.publish([event(1), event(2)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      expect((error as PublishError).retryable).toBe(true);
      expect((error as PublishError).failed.map((f) => [f.index, f.errorCode])).toEqual([
        [0, 'InternalFailure'],
        [1, 'InternalFailure'],
      ]);
      expect((error as Error).message).toMatch(/2 of 2 entries/);
      expect(await s.delivered()).toEqual([]);
    });
  });
}
