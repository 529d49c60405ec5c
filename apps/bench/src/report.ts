/** Tables and ratios for the terminal. */
import type { Result } from './scenarios.ts';

export const fixed = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** One row per run. */
export function printTable(results: readonly Result[]): void {
  const rows = results.map((r) => ({
    scenario: r.scenario,
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

/** A Switchyard / raw comparison and the bar it is held to. */
export interface Ratio {
  readonly scenario: string;
  readonly metric: string;
  readonly ratio: number;
  /** `>=` bars want a ratio at least this; `<=` bars at most. */
  readonly bar: string;
  readonly pass: boolean;
}

/** Ratios of Switchyard to raw per scenario, against the bars of the benchmark issue. */
export function printRatios(results: readonly Result[]): Ratio[] {
  const ratios: Ratio[] = [];
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const raw = results.find((r) => r.scenario === scenario && r.server === 'raw');
    const ours = results.find((r) => r.scenario === scenario && r.server === 'switchyard');
    if (!raw || !ours) continue;
    const add = (metric: string, ratio: number, bar: string, pass: boolean) =>
      ratios.push({ scenario, metric, ratio, bar, pass });
    if (scenario.startsWith('idle/')) {
      const ratio = ours.rssPerConnection! / raw.rssPerConnection!;
      add('RSS per connection', ratio, '≤ 1.3', ratio <= 1.3);
    } else if (scenario.startsWith('directed@')) {
      const ratio = ours.p99Ms / raw.p99Ms;
      add('p99 latency', ratio, '≤ 1.5', ratio <= 1.5);
    } else if (scenario === 'churn') {
      add('joins per core·s', ours.perCoreSecond / raw.perCoreSecond, 'reported', true);
    } else {
      const ratio = ours.perCoreSecond / raw.perCoreSecond;
      add('deliveries per core·s', ratio, '≥ 0.85', ratio >= 0.85);
    }
    add(
      'lost + duplicated',
      ours.lost + ours.duplicated + raw.lost + raw.duplicated,
      '= 0',
      ours.lost + ours.duplicated === 0,
    );
  }
  console.table(
    ratios.map((r) => ({
      scenario: r.scenario,
      metric: r.metric,
      'switchyard / raw': fixed(r.ratio, 2),
      bar: r.bar,
      ok: r.pass ? 'yes' : 'NO',
    })),
  );
  return ratios;
}
