/** How a bridge reports its first connection: a typed error, and a wait with a deadline. */

/** Why a bridge is not ready: the broker refused it, or could not be reached (yet). */
export class MqttBridgeError extends Error {
  override readonly name = 'MqttBridgeError';
  constructor(
    readonly code: 'refused' | 'unreachable' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

/** The outcome of the first connection, settled once, awaited any number of times. */
export interface FirstConnection {
  /** Records the outcome; later calls are ignored. */
  settle(error?: MqttBridgeError): void;
  /** Resolves or rejects with the outcome, or rejects as `unreachable` after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void>;
}

/** Tracks the first connection to the broker at `url`. */
export function firstConnection(url: string): FirstConnection {
  let settle: ((error?: MqttBridgeError) => void) | undefined;
  const outcome = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      settle = undefined;
      if (error) reject(error);
      else resolve();
    };
  });
  outcome.catch(() => undefined); // observed through wait()
  return {
    settle: (error) => settle?.(error),
    wait(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const text = `no connection to ${url} within ${timeoutMs} ms`;
          reject(new MqttBridgeError('unreachable', text));
        }, timeoutMs);
      });
      return Promise.race([outcome, deadline]).finally(() => clearTimeout(timer));
    },
  };
}
