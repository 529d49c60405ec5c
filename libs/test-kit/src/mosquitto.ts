/**
 * A private Mosquitto process for tests that need their own config (the shipped ACL) or restart
 * the broker: a free loopback port, a generated config in a temp dir, stopped by PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on `port`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A running private Mosquitto. */
export interface Mosquitto extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** What the process printed, for failure messages. */
  readonly output: string[];
  /** The running process's PID (to read its CPU), undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGTERM by PID, and wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Start again with the same config (and persistence file) on the same port. */
  start(): Promise<void>;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Keep sessions in a file, so they survive a restart. @default false */
  readonly persistence?: boolean;
  /** Use this ACL file (e.g. {@link SHIPPED_ACL}). */
  readonly aclFile?: string;
  /** Users for the password file (anonymous clients stay allowed). */
  readonly users?: Readonly<Record<string, string>>;
  /** Listen here. @default a free port */
  readonly port?: number;
  /** Log errors and warnings only (a benchmark's thousands of connects stay out of memory). */
  readonly quiet?: boolean;
}

/** Starts `mosquitto -c <generated config>` on a free port. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-mosquitto-'));
  const port = options.port ?? (await freePort());
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${options.persistence ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    // signalling is many small messages: no Nagle delay (as in the shipped mosquitto.conf)
    'set_tcp_nodelay true',
    'log_dest stdout',
    ...(options.quiet ? ['log_type error', 'log_type warning'] : []),
  ];
  // as root, mosquitto would switch to the `mosquitto` user, which cannot read the temp dir
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.aclFile) lines.push(`acl_file ${options.aclFile}`);
  if (options.users) {
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '');
    for (const [user, password] of Object.entries(options.users)) {
      await promisify(execFile)('mosquitto_passwd', ['-b', passwd, user, password]);
    }
    lines.push(`password_file ${passwd}`);
  }
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, `${lines.join('\n')}\n`);

  const output: string[] = [];
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await waitForPort(port, 5000);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.pid === undefined) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(running.pid, 'SIGTERM');
    const timer = setTimeout(() => running.pid && process.kill(running.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    output,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    async [Symbol.asyncDispose]() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
