/**
 * Where Node finds an `EventSource` (it has none): the optional peer `eventsource`. Browsers
 * get node-eventsource.browser.ts instead (package.json `imports`, condition `browser`), so the
 * Node fallback never reaches a browser bundle.
 */
import type { EventSourceConstructor } from './connector.ts';

export async function loadEventSource(): Promise<EventSourceConstructor> {
  try {
    const { EventSource } = await import('eventsource');
    return EventSource as unknown as EventSourceConstructor;
  } catch (error) {
    throw new Error(
      'this runtime has no EventSource: install the `eventsource` package (npm install eventsource) or pass options.EventSource',
      { cause: error },
    );
  }
}
