/**
 * The bridge's side of one device: the pipe operations, as prototype methods (a bridge holds one
 * per device; closures per device would cost memory), and the liveness probe.
 */
import { definePipe, probeWithin, type PipeHandle, type PipeOps } from '@switchyard/protocol';
import { closeFrame, PING_FRAME } from '../shared/topics.ts';

/** What a device needs from its bridge. */
export interface DeviceHost {
  /** Publishes to a down topic; `done` runs once the broker has the message. */
  publish(topic: string, message: string, done?: () => void): void;
  /** The device's pipe closed from the server side; stop routing to it. */
  forget(device: Device): void;
  readonly connected: boolean;
}

/** One device: its pipe, its down topic and its pending liveness probes. */
export class Device implements PipeOps {
  readonly handle: PipeHandle;
  /** False from a lost broker session until the device shows a sign of life. */
  confirmed = true;
  /** Pending liveness probes, settled by any sign of life or by the device going. */
  private probes: Set<(alive: boolean) => void> | undefined;
  /** Characters handed to the bridge and not yet acknowledged by the broker. */
  private buffered = 0;

  constructor(
    private readonly host: DeviceHost,
    readonly clientId: string,
    readonly down: string,
  ) {
    this.handle = definePipe('mqtt', this);
  }

  send(message: string): void {
    const size = message.length;
    this.buffered += size;
    this.host.publish(this.down, message, () => (this.buffered -= size));
  }

  /** What the broker has not taken yet: the hub closes a device that lets it grow (4008). */
  bufferedAmount(): number {
    return this.buffered;
  }

  /** Tells the device (a `close` frame), since MQTT gives a bridge no way to end its connection. */
  close(code = 1000, reason = ''): void {
    this.host.publish(this.down, closeFrame(code, reason));
    this.host.forget(this);
    this.handle.closed({ local: true, code, reason });
    this.settleProbes(false);
  }

  /** Sends `ping`; a device answers with `online` (any message it publishes counts too). */
  isAlive(timeoutMs: number): Promise<boolean> {
    if (!this.host.connected || !this.handle.isOpen) return Promise.resolve(false);
    return probeWithin(timeoutMs, (settle) => {
      (this.probes ??= new Set()).add(settle);
      this.host.publish(this.down, PING_FRAME);
      return () => this.probes?.delete(settle);
    });
  }

  /** Anything the device published: it is alive. */
  heard(): void {
    this.confirmed = true;
    this.settleProbes(true);
  }

  /** The device went offline (Last Will or its own `offline`): a hard disconnect. */
  gone(reason: string): void {
    this.handle.closed({ code: 1001, reason });
    this.settleProbes(false);
  }

  private settleProbes(alive: boolean): void {
    const probes = this.probes;
    if (!probes) return;
    this.probes = undefined;
    for (const settle of probes) settle(alive);
  }
}
