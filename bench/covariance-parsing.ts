import { scanCovarianceMapText } from '#lib/contracts/covariance-text.js';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import type { RefResolver } from '#lib/engine/ports.js';
import { resolveSnapshotRefs } from '#lib/engine/resolve-refs.js';
import { mulberry32 } from '#lib/prng.js';
import { prepareRiskInput } from '#lib/risk/index.js';
import { startCovarianceMapPeer } from './numpy-peer.js';
import type { BenchFigure } from './types.js';

// A big world's covariance from JSON text to a checked matrix, the way the engine meets it: the
// snapshot event (weights, a covariance_ref) plus the ref's text, resolved (resolveSnapshotRefs) and
// prepared (prepareRiskInput). The map's text is written as upstream's blob store writes it
// (json.dumps with sort_keys: ", " and ": " separators, rows in order).

const round = (x: number) => Number(x.toPrecision(4));

/** CPU ms of one call of an async function (the resolver is async; nothing in it waits on I/O). */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e3;
}

/** A resolver answering one text the way UriRefResolver parses it (scan for covariance maps, else JSON.parse). */
const resolverOf = (text: string, scan: boolean): RefResolver => ({
  resolve: async () => (scan ? scanCovarianceMapText(text) : null) ?? JSON.parse(text),
});

/** Inputs for n strategies: the event's snapshot text, the map's text and the compact documents' texts. */
function inputs(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `s${String(i).padStart(4, '0')}`);
  const rand = mulberry32(17);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // A one-factor covariance: βᵢβⱼσ_f² + δᵢⱼ·idioᵢ², full rank, numbers with 16–17 significant digits.
  const beta = ids.map(() => 0.3 + rand());
  const idio = ids.map(() => 0.004 + 0.01 * rand() + 1e-4 * normal());
  const entries: string[] = [];
  const upper: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const v = beta[i]! * beta[j]! * 6.4e-5 + (i === j ? idio[i]! ** 2 : 0);
      entries.push(`"${ids[i]},${ids[j]}": ${v}`);
      upper.push(v);
    }
  const raw = ids.map(() => 0.5 + rand());
  const sum = raw.reduce((a, b) => a + b, 0);
  const event = {
    world_id: 'bench',
    as_of: '2025-01-01T00:00:00Z',
    version: 'bench',
    weights: Object.fromEntries(ids.map((id, i) => [id, raw[i]! / sum])),
    covariance_ref: 's3://bench/covariance.json',
  };
  return {
    eventText: JSON.stringify(event),
    mapText: `{${entries.join(', ')}}`,
    compactText: JSON.stringify({ ids, upper }),
    binaryText: JSON.stringify({
      ids,
      upper_f64le: Buffer.from(Float64Array.from(upper).buffer).toString('base64'),
    }),
  };
}

/**
 * The map through the text scan (what the engine does), the map through JSON.parse (the fallback,
 * and what the path was before), the compact ref (ids + packed upper triangle), and Python's json +
 * numpy on the same two texts, alternating in `rounds` rounds.
 */
export async function covarianceParsing(n: number, withNumpy: boolean): Promise<BenchFigure[]> {
  const { eventText, mapText, compactText, binaryText } = inputs(n);
  const checked = async (text: string, scan: boolean) => {
    const data = SnapshotDataSchema.parse(JSON.parse(eventText));
    const prepared = prepareRiskInput(await resolveSnapshotRefs(data, resolverOf(text, scan)));
    if (prepared.covariance?.length !== n * n || prepared.warnings.length > 0)
      throw new Error(`bench covariance not usable: ${prepared.warnings.join('; ')}`);
  };
  const rounds = 5;
  const scanned = new Float64Array(rounds);
  const parsed = new Float64Array(rounds);
  const compact = new Float64Array(rounds);
  const binary = new Float64Array(rounds);
  const theirs = new Float64Array(rounds);
  const peer = withNumpy ? startCovarianceMapPeer(eventText, mapText) : undefined;
  try {
    await checked(mapText, true);
    await checked(compactText, false);
    await checked(binaryText, false);
    for (let r = 0; r < rounds; r++) {
      scanned[r] = await cpuMs(() => checked(mapText, true));
      compact[r] = await cpuMs(() => checked(compactText, false));
      binary[r] = await cpuMs(() => checked(binaryText, false));
      parsed[r] = await cpuMs(() => checked(mapText, false));
      if (peer) theirs[r] = (await peer.run(1)) * 1e3;
    }
  } finally {
    peer?.close();
  }
  const median = (a: Float64Array) => a.sort()[Math.floor(a.length / 2)]!;
  const keys = `${((n * (n + 1)) / 2).toLocaleString('en')} keys`;
  const figures: BenchFigure[] = [
    {
      name: `covariance map N=${n} (${keys}), covariance_ref text → checked matrix (text scan + resolveSnapshotRefs + prepareRiskInput), CPU`,
      unit: 'ms',
      median: round(median(scanned)),
      budget: 'report',
      ok: true,
    },
    {
      name: `  the same map through JSON.parse (the fallback for unusual maps; the path before the text scan), CPU`,
      unit: 'ms',
      median: round(median(parsed)),
      budget: 'none',
      ok: true,
    },
    {
      name: `compact covariance ref N=${n} (ids + packed upper triangle as base64 binary64, "upper_f64le"), JSON text → checked matrix: time / the scanned map's (${round(median(binary))} ms CPU)`,
      unit: 'ratio',
      median: round(median(binary) / median(scanned)),
      budget: '< 0.5',
      ok: median(binary) / median(scanned) < 0.5,
    },
    {
      name: `  compact covariance ref N=${n} with decimal numbers ("upper"): time / the scanned map's (${round(median(compact))} ms CPU; decimal conversion dominates both)`,
      unit: 'ratio',
      median: round(median(compact) / median(scanned)),
      budget: 'report',
      ok: true,
    },
  ];
  if (peer) {
    const ratio = median(theirs) / median(scanned);
    figures.push({
      name: `covariance map N=${n}: Python json + numpy time / our time (python ${round(median(theirs))} ms CPU)`,
      unit: 'ratio',
      median: round(ratio),
      budget: '≥ 1',
      ok: ratio >= 1,
    });
  }
  return figures;
}
