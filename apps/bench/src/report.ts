/** Tables and ratios for the terminal. */
import type { Result } from './scenarios.ts';

export const fixed = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** One row per run. */
export function printTable(results: readonly Result[]): void {
  const rows = results.map((r) => ({
    scenario: r.scenario,
    transport: r.transport,
    server: r.server,
    'per s': fixed(r.perSecond),
    'per core·s': fixed(r.perCoreSecond),
    'cpu share': fixed(r.cpuShare, 2),
    ...(r.busCpuShare !== undefined && { 'bus cpu': fixed(r.busCpuShare, 2) }),
    'p50 ms': fixed(r.p50Ms, 2),
    'p99 ms': fixed(r.p99Ms, 2),
    'RSS/conn B': fixed(r.rssPerConnection),
    lost: r.lost,
    dup: r.duplicated,
  }));
  console.table(rows);
}

/** A Switchyard ÷ baseline comparison and the bar it is held to. */
export interface Ratio {
  readonly transport: string;
  readonly scenario: string;
  /** The server Switchyard is divided by. */
  readonly baseline: string;
  readonly metric: string;
  readonly ratio: number;
  /** `≥` bars want a ratio at least this; `≤` bars at most; `reported` has none. */
  readonly bar: string;
  readonly pass: boolean;
}

type Bar = readonly ['≥' | '≤', number] | undefined;

/**
 * The bars of the benchmark issue (#16), per transport and baseline; a scenario without one is
 * reported. Throughput is deliveries (or joins) per server core-second; latency the p99 at a
 * steady rate; memory RSS per idle connection.
 */
function barOf(transport: string, baseline: string, scenario: string): Bar {
  const kind = scenario.split(/[/@]/)[0]!;
  if (transport === 'ws') {
    if (kind === 'directed' && scenario.includes('@')) return ['≤', 1.1];
    if (kind === 'directed' || kind === 'churn') return ['≥', 1];
    if (kind === 'broadcast') return ['≥', 2];
    if (kind === 'idle') return ['≤', 1.1];
  }
  if (transport === 'socket.io') {
    if (kind === 'idle') return ['≤', 1.1];
    if (!scenario.includes('@')) return ['≥', 1];
  }
  // an MQTT message crosses the broker twice through the bridge, once device to device
  if (
    transport === 'mqtt' &&
    (kind === 'directed' || kind === 'broadcast') &&
    !scenario.includes('@')
  )
    return ['≥', 0.5];
  if (transport === 'sse' && kind !== 'idle' && !scenario.includes('@'))
    return ['≥', baseline === 'signalhub' ? 3 : 1];
  return undefined;
}

/** Switchyard ÷ each baseline per transport and scenario, against the bars of {@link barOf}. */
export function printRatios(results: readonly Result[]): Ratio[] {
  const ratios: Ratio[] = [];
  const keys = [...new Set(results.map((r) => `${r.transport} ${r.scenario}`))];
  for (const key of keys) {
    const here = results.filter((r) => `${r.transport} ${r.scenario}` === key);
    const ours = here.find((r) => r.server === 'switchyard');
    if (!ours) continue;
    const { transport, scenario } = ours;
    for (const base of here.filter((r) => r !== ours)) {
      const ratio = scenario.startsWith('idle/')
        ? ours.rssPerConnection! / base.rssPerConnection!
        : scenario.startsWith('directed@')
          ? ours.p99Ms / base.p99Ms
          : ours.perCoreSecond / base.perCoreSecond;
      const metric = scenario.startsWith('idle/')
        ? 'RSS per connection'
        : scenario.startsWith('directed@')
          ? 'p99 latency'
          : scenario === 'churn'
            ? 'joins per core·s'
            : 'deliveries per core·s';
      const bar = barOf(transport, base.server, scenario);
      const pass = !bar || (bar[0] === '≥' ? ratio >= bar[1] : ratio <= bar[1]);
      ratios.push({
        transport,
        scenario,
        baseline: base.server,
        metric,
        ratio,
        bar: bar ? `${bar[0]} ${bar[1]}` : 'reported',
        pass,
      });
    }
    ratios.push({
      transport,
      scenario,
      baseline: '–',
      metric: 'lost + duplicated (switchyard)',
      ratio: ours.lost + ours.duplicated,
      bar: '= 0',
      pass: ours.lost + ours.duplicated === 0,
    });
  }
  console.table(
    ratios.map((r) => ({
      transport: r.transport,
      scenario: r.scenario,
      metric: r.metric,
      baseline: r.baseline,
      'switchyard ÷ baseline': fixed(r.ratio, 2),
      bar: r.bar,
      ok: r.pass ? 'yes' : 'NO',
    })),
  );
  return ratios;
}
