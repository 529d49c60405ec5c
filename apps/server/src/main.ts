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
  // commander printed its own errors and the help text; a bad environment variable is ours
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`switchyard: ${(error as Error).message}\n`);
  process.exit(2);
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
