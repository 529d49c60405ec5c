/** Browsers have `EventSource`; this stands in for the Node loader to keep it out of bundles. */
import type { EventSourceConstructor } from './connector.ts';

export function loadEventSource(): Promise<EventSourceConstructor> {
  return Promise.reject(new Error('this runtime has no EventSource: pass options.EventSource'));
}
