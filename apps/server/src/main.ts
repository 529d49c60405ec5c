#!/usr/bin/env node
/** The `switchyard` command: parse config, start, shut down gracefully on SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { pino } from 'pino';
import { AuthConfigError, type JwtAuthorityOptions } from '@switchyard/auth';
import { ConfigError, parseConfig, type JwtConfig, type ServerConfig } from './config.ts';
import { startServer } from './server.ts';

/** The authority's options from the configuration; the key file is read here. */
function jwtOptions(jwt: JwtConfig): JwtAuthorityOptions {
  let publicKey: string | undefined;
  if (jwt.publicKeyFile !== undefined) {
    try {
      publicKey = readFileSync(jwt.publicKeyFile, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `--jwt-public-key: cannot read ${jwt.publicKeyFile}: ${(error as Error).message}`,
      );
    }
  }
  return {
    ...(jwt.secret !== undefined && { secret: jwt.secret }),
    ...(publicKey !== undefined && { publicKey }),
    ...(jwt.jwks !== undefined && { jwks: jwt.jwks }),
    ...(jwt.issuer !== undefined && { issuer: jwt.issuer }),
    ...(jwt.audience !== undefined && { audience: jwt.audience }),
    clockToleranceSeconds: jwt.clockToleranceSeconds,
  };
}

let config: ServerConfig;
let jwt: JwtAuthorityOptions | undefined;
try {
  config = parseConfig(process.argv.slice(2));
  jwt = config.jwt && jwtOptions(config.jwt);
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
    ...(jwt && { jwt }),
    ...(config.adminToken !== undefined && { adminToken: config.adminToken }),
    ...(config.cluster !== undefined && {
      cluster: {
        url: config.cluster,
        ...(config.nodeId !== undefined && { nodeId: config.nodeId }),
      },
    }),
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
  if (error instanceof AuthConfigError) {
    process.stderr.write(`switchyard: ${error.message}\n`);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  logger.fatal(
    { err: error },
    code === 'EADDRINUSE'
      ? `port ${config.port} on ${config.host} is in use: pick another with --port or SWITCHYARD_PORT`
      : 'could not start',
  );
  process.exit(1);
}
