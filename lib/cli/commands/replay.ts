import { closeSync, createReadStream, openSync, statSync, writeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { type CliCommand, numberFlag, parseFlags, requiredFlag, UsageError } from '../args.js';
import { InputError } from '../load-input.js';
import { type OpsLine, readOpsFile } from '../replay/ops-file.js';
import { renderReport } from '../replay/report-html.js';
import { ReportModel } from '../replay/report-model.js';
import { type ReplaySink, replayStream } from '../replay/runner.js';
import { ReplaySummary } from '../replay/summary.js';
import { TimelineWriter, timelineFormat } from '../replay/timeline.js';
import { DEFAULT_RULES } from './evaluate.js';
import { loadRuleSets } from './rules.js';

/** Above this share of rejected lines the replay exits 1: most likely the wrong file or format. */
export const DEFAULT_MAX_REJECTED_SHARE = 0.5;
const PROGRESS_AFTER_MS = 5_000;

/** A file written line by line as the replay runs (synchronously, so a crash loses nothing written). */
function lineFile(path: string): { write: (text: string) => void; close: () => void } {
  const fd = openSync(path, 'w');
  return { write: (text) => writeSync(fd, text), close: () => closeSync(fd) };
}

/**
 * The progress line on stderr: redrawn in place on a terminal; otherwise only for long runs, one
 * line every few seconds, so short runs and tests print nothing.
 */
function progressReporter(totalBytes: number, startedMs: number) {
  const tty = process.stderr.isTTY === true;
  let lastMs = startedMs;
  let shown = false;
  return {
    tick(line: number, bytes: number, signals: number) {
      const now = Date.now();
      if (tty ? now - lastMs < 250 : now - startedMs < PROGRESS_AFTER_MS || now - lastMs < PROGRESS_AFTER_MS)
        return;
      lastMs = now;
      shown = true;
      const share = totalBytes > 0 ? ` (${Math.min(100, (bytes / totalBytes) * 100).toFixed(0)}%)` : '';
      const text = `replay: line ${line}${share}, ${signals} signals, ${((now - startedMs) / 1000).toFixed(0)}s`;
      process.stderr.write(tty ? `\r${text}\u001b[K` : `${text}\n`);
    },
    done() {
      if (shown && tty) process.stderr.write('\r\u001b[K');
    },
  };
}

async function runReplay(
  eventsPath: string,
  registry: RuleSetRegistry,
  sinks: ReplaySink[],
  onLine: (line: number, bytes: number) => void,
  ops?: readonly OpsLine[],
): Promise<void> {
  let size: number;
  try {
    const stat = statSync(eventsPath);
    if (stat.isDirectory())
      throw new InputError(`--events ${eventsPath}: is a directory, expected a JSONL file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new InputError(
      `--events ${eventsPath}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`,
    );
  }
  const input = createInterface({ input: createReadStream(eventsPath, 'utf8'), crlfDelay: Infinity });
  let bytes = 0;
  let count = 0;
  async function* rows() {
    for await (const row of input) {
      bytes += Buffer.byteLength(row) + 1;
      count += 1;
      yield row;
      onLine(count, Math.min(bytes, size));
    }
  }
  await replayStream(
    rows(),
    registry,
    {
      line: (l) => {
        for (const s of sinks) s.line?.(l);
      },
      audit: (r, line) => {
        for (const s of sinks) s.audit?.(r, line);
      },
      published: (e, line) => {
        for (const s of sinks) s.published?.(e, line);
      },
      snapshot: (d, line) => {
        for (const s of sinks) s.snapshot?.(d, line);
      },
      ops: (applied) => {
        for (const s of sinks) s.ops?.(applied);
      },
    },
    ops ? { ops } : {},
  );
}

/** `exit-engine replay`: what the rules would have done over a recorded stream, deterministically. */
export const command: CliCommand = {
  name: 'replay',
  summary: [
    'Replay a JSONL stream of risk_snapshot_updated and market_snapshot_updated events (EventBridge events, CloudEvents or bare snapshots) through the engine with in-memory adapters, each event evaluated as of its own time; print a summary (signals per rule and world, episodes, time in breach, rejections, duplicates, out-of-order deliveries) and every signal it would have published. The same input gives byte-identical output. A --rules FILE applies to every world in the stream.',
    '',
    '  --out FILE.jsonl          every exit_signal_emitted it would have published',
    '  --report FILE.html        one self-contained page of charts per world: each rule against its limit and clear level with episodes and signals, recommended exposure per strategy, equity and drawdown with and without the overlay',
    '  --timeline FILE.csv|.jsonl  one row per evaluation and rule: time, measure, limit, clear, verdict, action',
    '  --json                    the summary as JSON instead of text',
    '  --ops FILE.jsonl          ops actions applied at their times (mute, unmute, approve, reject; one JSON object a line: {"at", "action", "world", ...}; see README "Replaying what ops did"), through the same ops service as the runtime; the summary lists each with what it did',
    `  --max-rejected-share X    exit 1 when more than this share of lines is rejected (default ${DEFAULT_MAX_REJECTED_SHARE}; 1 never fails)`,
    'The input is streamed; a progress line goes to stderr on a terminal, or every few seconds on long runs.',
  ].join('\n'),
  usage:
    'exit-engine replay --events FILE.jsonl [--rules FILE_OR_DIR] [--ops FILE.jsonl] [--out FILE.jsonl] [--report FILE.html] [--timeline FILE.csv|FILE.jsonl] [--json] [--max-rejected-share 0.5]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      events: { type: 'string' },
      rules: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      timeline: { type: 'string' },
      json: { type: 'boolean' },
      'max-rejected-share': { type: 'string' },
      ops: { type: 'string' },
    });
    const eventsPath = requiredFlag('events', values.events);
    const maxRejected = numberFlag(
      'max-rejected-share',
      values['max-rejected-share'],
      DEFAULT_MAX_REJECTED_SHARE,
      {
        min: 0,
        max: 1,
      },
    );
    const format = values.timeline === undefined ? undefined : timelineFormat(values.timeline);
    if (values.timeline !== undefined && format === undefined)
      throw new UsageError(
        `--timeline: '${values.timeline}' must end in .csv or .jsonl (that picks the format)`,
      );
    if (values.report !== undefined && !/\.html?$/i.test(values.report))
      throw new UsageError(`--report: '${values.report}' must end in .html`);
    const rulesPath = values.rules ?? DEFAULT_RULES;
    const { registry, label } = loadRuleSets(rulesPath);
    // Every line checked before the replay starts: a typo late in the file must not surface half-way.
    const ops = values.ops === undefined ? undefined : readOpsFile(values.ops);

    const summary = new ReplaySummary(registry);
    const sinks: ReplaySink[] = [summary];
    const files: { write: (text: string) => void; close: () => void }[] = [];
    const open = async (path: string) => {
      await mkdir(dirname(path), { recursive: true });
      const f = lineFile(path);
      files.push(f);
      return f;
    };
    let outEvents = 0;
    if (values.out) {
      const out = await open(values.out);
      sinks.push({
        published(event) {
          if (event.type !== 'exit_signal_emitted') return;
          outEvents += 1;
          out.write(`${JSON.stringify(event)}\n`);
        },
      });
    }
    const timeline =
      values.timeline && format ? new TimelineWriter(format, (await open(values.timeline)).write) : undefined;
    if (timeline) sinks.push(timeline);
    const model = values.report ? new ReportModel() : undefined;
    if (model) sinks.push(model);

    const progress = progressReporter(
      (() => {
        try {
          return statSync(eventsPath).size;
        } catch {
          return 0;
        }
      })(),
      Date.now(),
    );
    let signals = 0;
    sinks.push({
      published(e) {
        if (e.type === 'exit_signal_emitted') signals += e.data.signals.length;
      },
    });
    try {
      await runReplay(eventsPath, registry, sinks, (line, bytes) => progress.tick(line, bytes, signals), ops);
    } finally {
      progress.done();
      for (const f of files) f.close();
    }
    const written: Record<string, string> = {};
    if (values.out) written.out = values.out;
    if (values.timeline) written.timeline = values.timeline;
    if (model && values.report) {
      const title = `exit-engine replay: ${eventsPath}`;
      const subtitle = `rules ${label}; ${summary.total} events, ${summary.invalid} rejected as invalid; ${signals} signals published`;
      await writeFile(values.report, renderReport({ title, subtitle, worlds: model.reports() }));
      written.report = values.report;
    }
    const rejectedShare = summary.total === 0 ? 0 : summary.invalid / summary.total;
    const tooManyRejected = rejectedShare > maxRejected;

    if (values.json) {
      console.log(
        JSON.stringify(
          {
            events_file: eventsPath,
            rules: label,
            ...summary.toJSON(),
            rejected_share: rejectedShare,
            written,
          },
          null,
          2,
        ),
      );
    } else {
      console.log(`replay of ${eventsPath} with rules ${label}`);
      console.log(summary.describe().join('\n'));
      if (values.out) console.log(`\nwrote ${outEvents} exit_signal_emitted events to ${values.out}`);
      if (timeline) console.log(`wrote ${timeline.rows} timeline rows to ${values.timeline}`);
      if (written.report) console.log(`wrote the report to ${written.report}`);
    }
    if (tooManyRejected) {
      console.error(
        `exit-engine replay: ${summary.invalid} of ${summary.total} lines (${(rejectedShare * 100).toFixed(0)}%) were rejected, more than --max-rejected-share ${maxRejected}; is ${eventsPath} a JSONL stream (one event per line)?`,
      );
      return 1;
    }
    // Every line was replayed, but one the engine could not complete is worth a failing status.
    return summary.errors > 0 ? 1 : 0;
  },
};
