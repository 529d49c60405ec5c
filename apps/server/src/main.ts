#!/usr/bin/env node
/** The `switchyard` command: parse config, start, shut down gracefully on SIGINT/SIGTERM. */
import { CommanderError } from 'commander';
import { pino } from 'pino';
import { parseConfig, type ServerConfig } from './config.ts';
import { startServer } from './server.ts';

let config: ServerConfig;
try {
  config = parseConfig(process.argv.slice(2));
} catch (error) {
  // commander already printed the message or the help text
  process.exit(error instanceof CommanderError ? error.exitCode : 2);
}

const logger = pino({ name: 'switchyard', level: config.logLevel });
try {
  const server = await startServer({
    host: config.host,
    port: config.port,
    hub: {
      graceMs: config.graceMs,
      rateLimit: config.rateLimit.perSecond === 0 ? false : config.rateLimit,
    },
    logger,
    transports: config.transports,
    mqtt: config.mqtt,
    mqttPort: config.mqttPort,
    ...(config.allowedOrigins && { allowedOrigins: config.allowedOrigins }),
  });
  const stop = (signal: string) => {
    logger.info({ signal }, 'signal received');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  logger.fatal(
    { err: error },
    code === 'EADDRINUSE'
      ? `port ${config.port} on ${config.host} is in use: pick another with --port or SWITCHYARD_PORT`
      : 'could not start',
  );
  process.exit(1);
}
