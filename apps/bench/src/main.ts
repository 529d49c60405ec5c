#!/usr/bin/env node
/**
 * `npm run bench`: runs every scenario against the raw ws relay and against Switchyard, each in a
 * fresh server process, and prints both with their ratio. JSON lines go to `--out`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { broadcast, churn, directed, idle, type Result } from './scenarios.ts';
import { spawnServer, type ServerKind, type ServerProcess } from './server-process.ts';
import { printRatios, printTable } from './report.ts';

interface Options {
  scenarios: string[];
  duration: number;
  quick: boolean;
  out: string;
  profile?: string;
}

const program = new Command('switchyard-bench')
  .description('Switchyard versus a raw ws relay, same machine, same run.')
  .addOption(
    new Option('--scenarios <list>', 'comma-separated: directed, rate, broadcast, churn, idle')
      .default(['directed', 'rate', 'broadcast', 'churn', 'idle'])
      .argParser((value) => value.split(',').map((s) => s.trim())),
  )
  .addOption(
    new Option('--duration <seconds>', 'measured window per run').default(5).argParser(Number),
  )
  .option('--quick', 'small sizes and 1 s windows (a smoke run)', false)
  .option(
    '--out <file>',
    'JSON lines output',
    `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
  )
  .option('--profile <dir>', 'run Switchyard under node --cpu-prof, writing profiles to <dir>');
program.parse();
const options = program.opts<Options>();
const durationMs = (options.quick ? 1 : options.duration) * 1000;

type Run = (server: ServerProcess) => Promise<Result>;
const runs: [name: string, run: Run][] = [];
const want = (name: string) => options.scenarios.includes(name);
if (want('directed'))
  runs.push(['directed', (s) => directed(s, { durationMs, pairs: options.quick ? 10 : 50 })]);
if (want('rate')) runs.push(['rate', (s) => directed(s, { durationMs, pairs: 50, rate: 2000 })]);
if (want('broadcast')) {
  for (const members of options.quick ? [10, 50] : [10, 50, 200]) {
    runs.push([`broadcast/${members}`, (s) => broadcast(s, { durationMs, members })]);
  }
}
if (want('churn')) runs.push(['churn', (s) => churn(s, { durationMs, workers: 16 })]);
if (want('idle')) {
  for (const connections of options.quick ? [500, 2000] : [2000, 10_000]) {
    runs.push([`idle/${connections}`, (s) => idle(s, { connections })]);
  }
}

mkdirSync(dirname(options.out), { recursive: true });
const environment = {
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  startedAt: new Date().toISOString(),
};
appendFileSync(options.out, `${JSON.stringify({ type: 'environment', ...environment })}\n`);
console.log(
  `switchyard bench: ${runs.length} scenarios × 2 servers, ${durationMs / 1000} s windows`,
);
console.log(
  `node ${environment.node}, ${environment.cpus}, ${environment.memoryGiB} GiB; results → ${options.out}\n`,
);

const results: Result[] = [];
for (const [name, run] of runs) {
  for (const kind of ['raw', 'switchyard'] as ServerKind[]) {
    const server = await spawnServer(
      kind,
      kind === 'switchyard' && options.profile ? { cpuProfileDir: options.profile } : {},
    );
    process.stdout.write(`  ${name.padEnd(16)} ${kind.padEnd(10)} … `);
    try {
      const outcome = await run(server);
      results.push(outcome);
      appendFileSync(options.out, `${JSON.stringify({ type: 'result', ...outcome })}\n`);
      process.stdout.write(`${Math.round(outcome.perSecond)}/s, lost ${outcome.lost}\n`);
    } finally {
      await server.stop();
    }
  }
}
console.log('');
printTable(results);
console.log('');
const ratios = printRatios(results);
appendFileSync(options.out, `${JSON.stringify({ type: 'ratios', ratios })}\n`);
const lost = results.reduce((sum, r) => sum + r.lost + r.duplicated, 0);
if (lost > 0) {
  console.error(`\n${lost} messages lost or duplicated`);
  process.exitCode = 1;
}
