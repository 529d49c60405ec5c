/**
 * `@switchyard/bench`: the benchmark scenarios, for scripting runs beyond `npm run bench`.
 *
 * @example
 * ```ts
 * import { directed, spawnServer } from '@switchyard/bench';
 *
 * const server = await spawnServer('switchyard');
 * console.log(await directed(server, { durationMs: 2000, pairs: 10 }));
 * await server.stop();
 * ```
 */
export {
  broadcast,
  churn,
  directed,
  idle,
  type Result,
  type ScenarioOptions,
} from './scenarios.ts';
export {
  spawnServer,
  type ServerKind,
  type ServerProcess,
  type SpawnOptions,
} from './server-process.ts';
