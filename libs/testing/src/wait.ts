/** Typed waits on the signaller's and the hub's events, on top of the test kit's `nextCall`. */
import type { Hub, HubEvents } from '@switchyard/hub';
import type { Signaller, SignallerEvents } from '@switchyard/signaller';
import { nextCall } from '@switchyard/test-kit';

type ArgsOf<T> = T extends (...args: infer A) => void ? A : never;

/** Resolves with the arguments of the signaller's next `event` that passes `filter`. */
export function nextEvent<E extends keyof SignallerEvents & string>(
  source: Pick<Signaller, 'on'>,
  event: E,
  filter?: (...args: ArgsOf<SignallerEvents[E]>) => boolean,
  timeoutMs?: number,
): Promise<ArgsOf<SignallerEvents[E]>>;
/** Resolves with the arguments of the hub's next `event` that passes `filter`. */
export function nextEvent<E extends keyof HubEvents & string>(
  source: Pick<Hub, 'on'>,
  event: E,
  filter?: (...args: ArgsOf<HubEvents[E]>) => boolean,
  timeoutMs?: number,
): Promise<ArgsOf<HubEvents[E]>>;
export function nextEvent(
  source: { on(event: string, listener: (...args: never[]) => void): () => void },
  event: string,
  filter?: (...args: unknown[]) => boolean,
  timeoutMs = 5000,
): Promise<unknown[]> {
  return nextCall<unknown[]>(
    (listener) => source.on(event, listener as (...args: never[]) => void),
    `event ${event}`,
    filter,
    timeoutMs,
  );
}
