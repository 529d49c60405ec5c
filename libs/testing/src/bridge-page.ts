/**
 * The page half of the browser bridge (see `browser-bridge.ts`). Bundled into a test page with
 * a transport's client half, it opens pipes with that client half *in the browser* and relays
 * them to the Node test over Playwright bindings. Browser-safe: no Node or vitest imports.
 */
import type { Connector, Pipe } from '@switchyard/protocol';

/** Makes the browser-side connector for a server URL. */
export type ConnectorFactory = (url: string) => Connector;

interface BridgeGlobals {
  __switchyardToNode?: (id: number, kind: 'message' | 'close', data: string) => void;
  __switchyardBridge?: {
    open(id: number, url: string): Promise<void>;
    send(id: number, message: string): void;
    close(id: number, code?: number, reason?: string): void;
  };
}

/** Installs the page side of the bridge with the transport's client half. */
export function installBridge(factory: ConnectorFactory): void {
  const scope = globalThis as BridgeGlobals;
  const pipes = new Map<number, Pipe>();
  scope.__switchyardBridge = {
    async open(id, url) {
      const pipe = await factory(url)({});
      pipes.set(id, pipe);
      pipe.onMessage((message) => scope.__switchyardToNode!(id, 'message', message));
      pipe.onClose((info) => {
        pipes.delete(id);
        scope.__switchyardToNode!(
          id,
          'close',
          JSON.stringify({ code: info.code, reason: info.reason }),
        );
      });
    },
    send(id, message) {
      pipes.get(id)?.send(message);
    },
    close(id, code, reason) {
      pipes.get(id)?.close(code, reason);
    },
  };
}
