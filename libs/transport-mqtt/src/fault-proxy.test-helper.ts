/**
 * A loopback TCP proxy that reads the MQTT packets passing through it, for tests that need a
 * packet lost at an exact point (a PUBACK, a PUBREC) or a connection that goes silent. Real
 * client, real broker; only the wire between them misbehaves.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** Client → broker is `up`, broker → client is `down`. */
export type Direction = 'up' | 'down';

/** MQTT control packet types this proxy can aim at. */
export const PacketType = { publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const;

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `mqtt://127.0.0.1:<port>`: connect here instead of to the broker. */
  readonly url: string;
  /** Payloads of every PUBLISH forwarded, per direction, as text. */
  readonly published: Record<Direction, string[]>;
  /**
   * The next PUBLISH going `direction` whose payload contains `marker` is forwarded; its
   * acknowledgement (`ack`: PUBACK, or PUBREC for QoS 2) is dropped on the way back and both
   * sockets of that connection are cut. Resolves when that happened.
   */
  cutAtAck(direction: Direction, marker: string, ack: number): Promise<void>;
  /** Stops forwarding on every connection but keeps the sockets open (a dead network). */
  freeze(): void;
  /** Cuts every connection and refuses new ones until {@link FaultProxy.unblock}. */
  block(): void;
  unblock(): void;
}

/** Splits a byte stream into MQTT packets (fixed header + remaining length). */
function packetSplitter(onPacket: (packet: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let index = 1;
      for (; index < pending.length && index <= 4; index++) {
        length += (pending[index]! & 0x7f) * multiplier;
        multiplier *= 128;
        if ((pending[index]! & 0x80) === 0) break;
      }
      if (index >= pending.length) return; // the length is not complete yet
      const total = index + 1 + length;
      if (pending.length < total) return;
      onPacket(pending.subarray(0, total));
      pending = pending.subarray(total);
    }
  };
}

/** Where the variable header starts (after the type byte and the remaining length). */
function bodyStart(packet: Buffer): number {
  let offset = 1;
  while (packet[offset]! & 0x80) offset++;
  return offset + 1;
}

/** A PUBLISH's packet id (0 for QoS 0) and payload. */
function readPublish(packet: Buffer): { id: number; payload: string } {
  let offset = bodyStart(packet);
  offset += 2 + packet.readUInt16BE(offset);
  let id = 0;
  if ((packet[0]! >> 1) & 0x03) {
    id = packet.readUInt16BE(offset);
    offset += 2;
  }
  return { id, payload: packet.subarray(offset).toString() };
}

interface Trap {
  readonly direction: Direction;
  readonly marker: string;
  readonly ack: number;
  readonly done: () => void;
  /** The connection and packet id of the PUBLISH it caught. */
  caught?: { pair: object; id: number };
}

/** Starts a proxy to `target` (`mqtt://host:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const published: Record<Direction, string[]> = { up: [], down: [] };
  const traps: Trap[] = [];
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  let blocked = false;

  const server = createServer({ noDelay: true }, (client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const broker = connect({ port: Number(port), host: hostname, noDelay: true });
    const pair: [Socket, Socket] = [client, broker];
    pairs.add(pair);
    const cut = () => {
      pairs.delete(pair);
      client.destroy();
      broker.destroy();
    };
    const relay = (direction: Direction, to: Socket) =>
      packetSplitter((packet) => {
        if (frozen) return;
        const type = packet[0]! >> 4;
        if (type === PacketType.publish) {
          const { id, payload } = readPublish(packet);
          published[direction].push(payload);
          const trap = traps.find(
            (t) => !t.caught && t.direction === direction && payload.includes(t.marker),
          );
          if (trap) trap.caught = { pair, id };
        } else {
          const id = packet.length >= 4 ? packet.readUInt16BE(bodyStart(packet)) : -1;
          const trap = traps.find(
            (t) => t.caught?.pair === pair && t.caught.id === id && t.ack === type,
          );
          if (trap && trap.direction !== direction) {
            traps.splice(traps.indexOf(trap), 1);
            cut();
            trap.done();
            return;
          }
        }
        to.write(packet);
      });
    client.on('data', relay('up', broker));
    broker.on('data', relay('down', client));
    client.on('error', cut);
    broker.on('error', cut);
    client.on('close', cut);
    broker.on('close', cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    published,
    cutAtAck(direction, marker, ack) {
      return new Promise((done) => traps.push({ direction, marker, ack, done }));
    },
    freeze() {
      frozen = true;
    },
    block() {
      blocked = true;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
    },
    unblock() {
      blocked = false;
    },
    async [Symbol.asyncDispose]() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
