/**
 * `@switchyard/server`: every transport on one port. Run it with `npx switchyard --port 3000`,
 * or embed it:
 *
 * @example
 * ```ts
 * import { startServer } from '@switchyard/server';
 *
 * const server = await startServer({ port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export { startServer, VERSION, type StartOptions, type RunningServer } from './server.ts';
export { TRANSPORT_NAMES, type TransportName } from './transports.ts';
export { mqttHalf, isMqttMode, type MqttMode, type MqttModeOptions } from './mqtt-mode.ts';
export { parseConfig, type ServerConfig } from './config.ts';
export type { StatusDocument, StatusRoom } from './status.ts';
