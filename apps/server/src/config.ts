/** Command line and environment configuration of the server. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isMqttMode } from './mqtt-mode.ts';
import { isTransportName, TRANSPORT_NAMES, type TransportName } from './transports.ts';

/** Resolved server configuration. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly graceMs: number;
  readonly logLevel: string;
  /** Messages per second per connection (0 disables the limit) and the burst size. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** The transports to run. */
  readonly transports: readonly TransportName[];
  /** `auto`, `embedded`, `off` or a broker URL (`mqtt://host:port`). */
  readonly mqtt: string;
  /** TCP port of an embedded MQTT broker (a taken port falls back to a free one). */
  readonly mqttPort: number;
  /** Allowed browser origins; undefined allows all. */
  readonly allowedOrigins?: readonly string[];
  /** JWT authentication (docs/security.md); undefined: no token is required. */
  readonly jwt?: JwtConfig;
  /** Shows room names and peer ids on the status page to callers that send it. */
  readonly adminToken?: string;
  /** The cluster's Redis (docs/cluster.md); undefined: this process is the whole service. */
  readonly cluster?: string;
  /** This node's id in the cluster; undefined: random. */
  readonly nodeId?: string;
}

/** How tokens are verified: exactly one key source, plus the claims every token must carry. */
export interface JwtConfig {
  readonly secret?: string;
  /** Path of a PEM public key file. */
  readonly publicKeyFile?: string;
  /** An https URL (http on loopback) or a file of a JWK set. */
  readonly jwks?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockToleranceSeconds: number;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min} to ${max}, got "${value}"`,
      );
    }
    return parsed;
  };
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** A configuration error commander did not print (a bad environment variable). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `argv` (user arguments only). Flags win over `SWITCHYARD_*` env vars, which win over `PORT`/`HOST`. */
export function parseConfig(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): ServerConfig {
  const port = integer('port', 0, 65535);
  const graceMs = integer('grace window', 0, 600_000);
  const rate = integer('rate limit', 0, 10_000_000);
  const tolerance = integer('clock tolerance', 0, 3600);
  const logLevel = (value: string): string => {
    if (LOG_LEVELS.includes(value)) return value;
    throw new InvalidArgumentError(
      `log level must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`,
    );
  };
  const mqttMode = (value: string): string => {
    if (isMqttMode(value)) return value;
    throw new InvalidArgumentError(
      `mqtt must be auto, embedded, off or a broker URL, got "${value}"`,
    );
  };
  const transportList = (value: string): TransportName[] => {
    const names = value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const unknown = names.filter((name) => !isTransportName(name));
    if (unknown.length > 0 || names.length === 0)
      throw new InvalidArgumentError(
        `transports must be a comma-separated list of ${TRANSPORT_NAMES.join(', ')}, got "${value}"`,
      );
    return [...new Set(names as TransportName[])];
  };
  // an empty variable counts as unset (`PORT= npm start`); a bad one names itself
  const fromEnv = <T>(parse: (value: string) => T, ...names: string[]): T | undefined => {
    const name = names.find((candidate) => (env[candidate] ?? '') !== '');
    if (name === undefined) return undefined;
    try {
      return parse(env[name]!);
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`);
    }
  };
  const program = new Command('switchyard')
    .description(
      'Switchyard signalling server: the rtc-signaller protocol on every transport, one port.',
    )
    .addOption(
      new Option('--host <host>', 'interface to listen on [env SWITCHYARD_HOST, HOST]').default(
        fromEnv(String, 'SWITCHYARD_HOST', 'HOST') ?? '127.0.0.1',
      ),
    )
    .addOption(
      new Option(
        '--port <port>',
        'port to listen on, 0 for any free one [env SWITCHYARD_PORT, PORT]',
      )
        .argParser(port)
        .default(fromEnv(port, 'SWITCHYARD_PORT', 'PORT') ?? 3000),
    )
    .addOption(
      new Option(
        '--grace-ms <ms>',
        'hard-disconnect grace window before /leave [env SWITCHYARD_GRACE_MS]',
      )
        .argParser(graceMs)
        .default(fromEnv(graceMs, 'SWITCHYARD_GRACE_MS') ?? 3000),
    )
    .addOption(
      new Option(
        '--rate-limit <perSecond>',
        'messages per second per connection, 0 = unlimited [env SWITCHYARD_RATE_LIMIT]',
      )
        .argParser(rate)
        .default(fromEnv(rate, 'SWITCHYARD_RATE_LIMIT') ?? 100),
    )
    .addOption(
      new Option(
        '--rate-burst <messages>',
        'messages a connection may send at once [env SWITCHYARD_RATE_BURST]',
      )
        .argParser(rate)
        .default(fromEnv(rate, 'SWITCHYARD_RATE_BURST') ?? 200),
    )
    .addOption(
      new Option(
        '--transports <list>',
        `transports to run, comma-separated: ${TRANSPORT_NAMES.join(',')} [env SWITCHYARD_TRANSPORTS]`,
      )
        .argParser(transportList)
        .default(fromEnv(transportList, 'SWITCHYARD_TRANSPORTS') ?? TRANSPORT_NAMES),
    )
    .addOption(
      new Option(
        '--mqtt <mode>',
        'auto (bridge to 127.0.0.1:1883 if it enforces the device rules, else embed), embedded, off, or mqtt://host:port [env SWITCHYARD_MQTT]',
      )
        .argParser(mqttMode)
        .default(fromEnv(mqttMode, 'SWITCHYARD_MQTT') ?? 'auto'),
    )
    .addOption(
      new Option(
        '--mqtt-port <port>',
        'TCP port of an embedded MQTT broker [env SWITCHYARD_MQTT_PORT]',
      )
        .argParser(port)
        .default(fromEnv(port, 'SWITCHYARD_MQTT_PORT') ?? 1883),
    )
    .addOption(
      new Option('--log-level <level>', 'log level [env SWITCHYARD_LOG_LEVEL]')
        .choices(LOG_LEVELS)
        .default(fromEnv(logLevel, 'SWITCHYARD_LOG_LEVEL') ?? 'info'),
    )
    .addOption(
      new Option(
        '--allowed-origins <origins>',
        'comma-separated browser origins allowed to connect; default any [env SWITCHYARD_ALLOWED_ORIGINS]',
      ).default(fromEnv(String, 'SWITCHYARD_ALLOWED_ORIGINS')),
    )
    .addOption(
      new Option(
        '--jwt-secret <secret>',
        'require JWTs signed HS256/384/512 with this secret, 32+ bytes; prefer the env var, flags show in ps [env SWITCHYARD_JWT_SECRET]',
      ),
    )
    .addOption(
      new Option(
        '--jwt-public-key <file>',
        'require JWTs signed with the private half of this PEM public key (RS*, PS*, ES*, EdDSA) [env SWITCHYARD_JWT_PUBLIC_KEY]',
      ).default(fromEnv(String, 'SWITCHYARD_JWT_PUBLIC_KEY')),
    )
    .addOption(
      new Option(
        '--jwt-jwks <url|file>',
        'require JWTs signed with a key of this JWK set (https URL, cached and refetched for an unknown kid; or a file) [env SWITCHYARD_JWT_JWKS]',
      ).default(fromEnv(String, 'SWITCHYARD_JWT_JWKS')),
    )
    .addOption(
      new Option('--jwt-issuer <iss>', 'required "iss" claim [env SWITCHYARD_JWT_ISSUER]').default(
        fromEnv(String, 'SWITCHYARD_JWT_ISSUER'),
      ),
    )
    .addOption(
      new Option(
        '--jwt-audience <aud>',
        'required "aud" claim [env SWITCHYARD_JWT_AUDIENCE]',
      ).default(fromEnv(String, 'SWITCHYARD_JWT_AUDIENCE')),
    )
    .addOption(
      new Option(
        '--jwt-clock-tolerance <seconds>',
        'leeway for exp and nbf against clock skew [env SWITCHYARD_JWT_CLOCK_TOLERANCE]',
      )
        .argParser(tolerance)
        .default(fromEnv(tolerance, 'SWITCHYARD_JWT_CLOCK_TOLERANCE') ?? 5),
    )
    .addOption(
      new Option(
        '--admin-token <token>',
        'the status page shows room names and peer ids only with this token (16+ characters; default: only to loopback) [env SWITCHYARD_ADMIN_TOKEN]',
      ),
    )
    .addOption(
      new Option(
        '--cluster <url>',
        'join a cluster on Redis: redis://[:password@]host:port[/db], rediss://…, or a Redis Cluster as redis-cluster://[:password@]host:port[,host:port…] (docs/cluster.md) [env SWITCHYARD_CLUSTER]',
      ),
    )
    .addOption(
      new Option(
        '--node-id <id>',
        'this node in the cluster, unique; default random [env SWITCHYARD_NODE_ID]',
      ).default(fromEnv(String, 'SWITCHYARD_NODE_ID')),
    )
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const options = program.opts<{
    host: string;
    port: number;
    graceMs: number;
    rateLimit: number;
    rateBurst: number;
    transports: TransportName[];
    mqtt: string;
    mqttPort: number;
    logLevel: string;
    allowedOrigins?: string;
    jwtSecret?: string;
    jwtPublicKey?: string;
    jwtJwks?: string;
    jwtIssuer?: string;
    jwtAudience?: string;
    jwtClockTolerance: number;
    adminToken?: string;
    cluster?: string;
    nodeId?: string;
  }>();
  // read after parsing, not as a default: commander would print the secret in --help
  options.jwtSecret ??= fromEnv(String, 'SWITCHYARD_JWT_SECRET');
  options.adminToken ??= fromEnv(String, 'SWITCHYARD_ADMIN_TOKEN');
  // read after parsing, like the secret: the URL may carry a password
  options.cluster ??= fromEnv(String, 'SWITCHYARD_CLUSTER');
  if (
    options.cluster !== undefined &&
    !/^rediss?:\/\/[^/]/.test(options.cluster) &&
    !/^rediss?-cluster:\/\/([^@/]*@)?[^/@,:]+:\d+(,[^/@,:]+:\d+)*\/?$/.test(options.cluster)
  )
    throw new ConfigError(
      `--cluster must be a redis://, rediss:// or redis-cluster://host:port[,host:port…] URL, got "${options.cluster.replace(/\/\/[^@/]*@/, '//***@')}"`,
    );
  if (options.nodeId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(options.nodeId))
    throw new ConfigError('--node-id may use letters, digits, ".", "_" and "-", at most 64');
  if (options.adminToken !== undefined && options.adminToken.length < 16)
    throw new ConfigError('--admin-token must be 16 characters or more (openssl rand -hex 16)');
  const keySources = [options.jwtSecret, options.jwtPublicKey, options.jwtJwks].filter(Boolean);
  if (keySources.length > 1)
    throw new ConfigError('give one of --jwt-secret, --jwt-public-key and --jwt-jwks, not several');
  if (keySources.length === 0 && (options.jwtIssuer || options.jwtAudience))
    throw new ConfigError(
      '--jwt-issuer and --jwt-audience need a key: --jwt-secret, --jwt-public-key or --jwt-jwks',
    );
  const jwt: JwtConfig | undefined =
    keySources.length === 0
      ? undefined
      : {
          ...(options.jwtSecret && { secret: options.jwtSecret }),
          ...(options.jwtPublicKey && { publicKeyFile: options.jwtPublicKey }),
          ...(options.jwtJwks && { jwks: options.jwtJwks }),
          ...(options.jwtIssuer && { issuer: options.jwtIssuer }),
          ...(options.jwtAudience && { audience: options.jwtAudience }),
          clockToleranceSeconds: options.jwtClockTolerance,
        };
  const origins = options.allowedOrigins
    ?.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return {
    host: options.host,
    port: options.port,
    graceMs: options.graceMs,
    logLevel: options.logLevel,
    rateLimit: { perSecond: options.rateLimit, burst: options.rateBurst },
    transports: options.transports,
    mqtt: options.mqtt,
    mqttPort: options.mqttPort,
    ...(origins && origins.length > 0 && { allowedOrigins: origins }),
    ...(jwt && { jwt }),
    ...(options.adminToken !== undefined && { adminToken: options.adminToken }),
    ...(options.cluster !== undefined && { cluster: options.cluster }),
    ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
  };
}
