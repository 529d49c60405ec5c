/**
 * One node of a cluster (docs/cluster.md): a hub plus the routing that makes many hubs one.
 * Every room lives in the hub of one node, its **home**; a connection stays on the node it
 * reached, its **edge**, which links it to the home of the room it announces into. To the home's
 * hub a member on another edge is an ordinary pipe whose `send` crosses the bus, so every rule
 * of docs/protocol.md runs unchanged in one hub per room: stamping, `memberCount`, grace
 * windows, per-sender order.
 */
import {
  CloseCode,
  definePipe,
  PipeClosedError,
  errorMessage,
  parseHeader,
  payloadOf,
  stringifyJson,
  type ConnectionContext,
  type Pipe,
  type PipeHandle,
} from '@switchyard/protocol';
import {
  createHub,
  resolveOptions,
  type Hub,
  type HubOptions,
  type HubServices,
  type IdClaimant,
  type IdDirectory,
  type IdState,
  type IdVerdict,
  type LeaveReason,
} from '@switchyard/hub';
import type { Backplane, IdRecord } from './backplane.ts';
import { decodeBus, encodeBus, type BusFrame } from './wire.ts';

/** A node: accept client pipes here instead of `hub.accept`. */
export interface ClusterNode {
  readonly node: string;
  /** The hub of the rooms homed here. */
  readonly hub: Hub;
  accept(pipe: Pipe, context?: Partial<ConnectionContext>): void;
  /** Connections whose edge is this node. */
  readonly connections: number;
  /** Client frames refused because the directory was out of reach. */
  readonly unroutable: number;
  /** Times the cluster declared this node dead while it was paused, and it started afresh. */
  readonly fenced: number;
  /**
   * Asks node `to` a question of `kind`, answered there by a handler given to `serve`;
   * undefined when it is dead or does not answer in time. Transports that need another node's
   * help (an SSE POST for a session held there) ask this way.
   */
  ask(to: string, kind: string, arg: string): Promise<string | undefined>;
  /** Answers other nodes' `ask`s of `kind` (no `|` in it; the node's own kinds are taken). */
  serve(kind: string, handler: (arg: string, from: string) => string | Promise<string>): void;
  close(): Promise<void>;
}

/** How long a request to another node may take before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 1500;
/** Reroutes of one announce before the edge gives up (homes moving under it). */
const MAX_REROUTES = 3;
const REROUTE = 'reroute';
/** Client frames an edge holds while its connection moves; past it they are refused, counted. */
const MAX_HELD = 1024;
/** How long a drain waits for its clients' transports to close. */
const CLOSE_WAIT_MS = 1500;
/** How long an announce waits for an unreachable directory before it is refused. */
const DIRECTORY_PATIENCE_MS = 3000;

/** A connection on this edge. */
interface EdgeConnection {
  readonly link: string;
  readonly pipe: Pipe;
  readonly context: ConnectionContext;
  /** Where its frames go: this node's hub, or the home over the bus. */
  route: Route;
  /** Frames held while an announce finds its room's home. */
  held?: string[];
  /** The latest announce, sent again when a home turns out to have moved. */
  announce?: string;
  /** Its announce was answered with `/roominfo`: it is a member somewhere. */
  joined?: boolean;
  /** The next link is a re-link after the room's home died (`ConnectionContext.rejoin`). */
  rejoin?: boolean;
  /** Being closed by a drain: what the hub would send it waits in the member's grace queue. */
  closing?: boolean;
  reroutes: number;
  closed: boolean;
}

type Route =
  | { readonly kind: 'local'; readonly handle: PipeHandle; readonly room?: string | undefined }
  | { readonly kind: 'remote'; readonly home: string; readonly room: string };

/** A member linked here from another edge. */
interface HomedLink {
  readonly edge: string;
  readonly handle: PipeHandle;
}

/** Creates a node on `backplane`; the hub gets `options` and `services`, plus the directory. */
export function createClusterNode(
  backplane: Backplane,
  options: HubOptions = {},
  services: Omit<HubServices, 'directory'> = {},
): ClusterNode {
  const self = backplane.node;
  const edges = new Map<string, EdgeConnection>();
  const homed = new Map<string, HomedLink>();
  const requests = new Map<string, (answer: string) => void>();
  /** Links homed here whose edge is closing them (a drain): the hub queues what they would get. */
  const closingLinks = new Set<string>();
  let nextLink = 0;
  /**
   * Links are unique across restarts of a node under the same id, so nothing a dead incarnation
   * left in the directory matches a live one's (the Redis backplane's sweep relies on it).
   */
  const incarnation = Date.now().toString(36);
  let nextRequest = 0;
  /** Client frames refused because the directory could not route them. */
  let unroutable = 0;
  /** Times the cluster fenced this node. */
  let fenced = 0;
  let draining = false;
  let drained: Promise<void> | undefined;
  const livenessTimeoutMs = options.livenessTimeoutMs ?? REQUEST_TIMEOUT_MS;

  const directory: IdDirectory = {
    // a directory that cannot be reached costs the announcer a retry, never the process
    claim: (id, claimant) => claimId(id, claimant).catch((): IdVerdict => 'unavailable'),
    update(id: string, state: IdState, claimant: IdClaimant) {
      const link = claimant.link ?? '';
      if (state === 'gone') return backplane.dropId(id, self, link);
      // a live bind is the newest truth (it followed a claim or a takeover here); a grace
      // window may be older than another home's claim
      const record: IdRecord = {
        home: self,
        link,
        state,
        ...(claimant.principal !== undefined && { principal: claimant.principal }),
      };
      backplane.putId(id, record, state === 'live');
    },
  };
  const hub = createHub(options, { ...services, directory });
  hub.on('room:destroyed', (room) => backplane.vacate(room, self));
  // the mirror: who is in each room homed here, and on which edge, for a node that takes over
  hub.on('peer:joined', (peer) => {
    if (peer.link !== undefined)
      backplane.mirror(peer.room, peer.id, {
        edge: edgeOf(peer.link),
        ...(peer.principal !== undefined && { principal: peer.principal }),
      });
  });
  // a shutdown keeps the mirror: the node that takes the room over restores from it
  hub.on('peer:left', (peer) => {
    if (peer.reason !== 'shutdown') backplane.mirror(peer.room, peer.id, undefined);
  });

  /**
   * Before this node's hub homes `room` for the first time, members of the room's previous home
   * (it died) are restored in their grace window: those on live edges re-link silently, the
   * room hears one /leave for each of the others.
   */
  const adopting = new Map<string, Promise<void>>();
  function adopt(room: string): Promise<void> {
    if (hub.roomMembers(room).length > 0) return Promise.resolve();
    let adoption = adopting.get(room);
    if (!adoption) {
      adoption = (async () => {
        let members: ReadonlyArray<{ id: string; edge: string; principal?: string }> = [];
        try {
          members = await backplane.readMirror(room);
        } catch {
          return; // the directory is away: the room starts afresh
        }
        // a restored member keeps its principal: nobody else takes its id in its window
        for (const { id, principal } of members) {
          if (!hub.restore(room, id, principal)) continue;
          const record = { home: self, link: '', state: 'grace' as const };
          backplane.putId(id, principal === undefined ? record : { ...record, principal }, true);
        }
      })().finally(() => adopting.delete(room));
      adopting.set(room, adoption);
    }
    return adoption;
  }

  /** docs/protocol.md §4.3 across nodes: the single-node rules, with the holder's home asked. */
  async function claimId(id: string, claimant: IdClaimant): Promise<IdVerdict> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const held = await backplane.getId(id);
      const mine: IdRecord = {
        home: self,
        link: claimant.link ?? '',
        state: 'live',
        ...(claimant.principal !== undefined && { principal: claimant.principal }),
      };
      if (!held || held.home === self || !backplane.isLive(held.home)) {
        if (await backplane.swapId(id, held, mine)) return 'granted';
        continue;
      }
      const moving = held.link === mine.link;
      const samePrincipal =
        claimant.principal !== undefined && held.principal === claimant.principal;
      const foreign = held.principal !== undefined && held.principal !== claimant.principal;
      if (!moving && !samePrincipal) {
        if (held.state === 'live' && (await request(held.home, 'alive', id)) === '1')
          return 'taken';
        // a member of another principal is not handed over before its grace window ends
        if (foreign) return 'taken';
      }
      if (!(await backplane.swapId(id, held, mine))) continue;
      const reason: LeaveReason = moving || held.state === 'grace' ? 'moved' : 'replaced';
      void request(held.home, 'release', `${reason}|${id}`);
      return 'granted';
    }
    return 'taken';
  }

  function request(node: string, kind: string, arg: string): Promise<string | undefined> {
    if (!backplane.isLive(node)) return Promise.resolve(undefined);
    const req = `${self}.${++nextRequest}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        requests.delete(req);
        resolve(undefined);
      }, REQUEST_TIMEOUT_MS);
      requests.set(req, (answer) => {
        clearTimeout(timer);
        requests.delete(req);
        resolve(answer);
      });
      backplane.send(node, encodeBus({ kind: 'Q', req, request: kind, arg }));
    });
  }

  // what other nodes ask of this one; `serve` adds a transport's own kinds beside these
  type Answer = (arg: string, from: string) => string | Promise<string>;
  const answers = new Map<string, Answer>([
    // is the member holding id `arg` here connected and answering?
    ['alive', async (arg) => ((await hub.isAlive(arg, livenessTimeoutMs)) ? '1' : '0')],
    [
      'link-alive',
      async (arg) => {
        const edge = edges.get(arg);
        if (!edge || edge.closed) return '0';
        return (await edge.pipe.isAlive?.(livenessTimeoutMs).catch(() => false)) ? '1' : '0';
      },
    ],
    [
      'release',
      (arg) => {
        const at = arg.indexOf('|');
        hub.release(arg.slice(at + 1), arg.slice(0, at) as LeaveReason);
        return '1';
      },
    ],
    // an edge releases what it held once the announce before it was taken
    [
      'idle',
      async () => {
        await hub.idle();
        return '1';
      },
    ],
    // the edge closes this link (a drain): deliveries wait in the grace queue
    [
      'closing',
      (arg) => {
        if (homed.has(arg)) closingLinks.add(arg);
        return '1';
      },
    ],
    [
      // `from` is draining: what is sent to it waits for its goodbye
      'hold',
      (_arg, from) => {
        for (const edge of edges.values())
          if (edge.route.kind === 'remote' && edge.route.home === from) edge.held ??= [];
        return '1';
      },
    ],
    [
      'bye',
      (_arg, from) => {
        backplane.departed(from);
        return '1';
      },
    ],
  ]);

  async function answer(kind: string, arg: string, from: string): Promise<string> {
    return (await answers.get(kind)?.(arg, from)) ?? '';
  }

  // ---- the edge: connections that reached this node ----

  function accept(pipe: Pipe, given: Partial<ConnectionContext> = {}): void {
    if (draining) return pipe.close(CloseCode.serviceRestart, 'server restarting: reconnect');
    const link = `${self}.${incarnation}-${++nextLink}`;
    const context: ConnectionContext = { ...given, transport: given.transport ?? pipe.transport };
    const edge = { link, pipe, context, reroutes: 0, closed: false } as EdgeConnection;
    // a connection starts on this node's hub, which owns announce deadlines and bad input
    edge.route = { kind: 'local', handle: localHandle(edge) };
    edges.set(link, edge);
    hub.accept(edge.route.handle.pipe, { ...context, link });
    pipe.onMessage((message) => fromClient(edge, message));
    pipe.onClose((info) => {
      edge.closed = true;
      edges.delete(link);
      const route = edge.route;
      if (route.kind === 'local') route.handle.closed({ local: false, ...codeOf(info.code) });
      else backplane.send(route.home, encodeBus({ kind: 'C', link, ...codeOf(info.code) }));
    });
  }

  /** The pipe this node's hub sees for a connection it homes itself. */
  function localHandle(edge: EdgeConnection): PipeHandle {
    const handle: PipeHandle = definePipe(edge.context.transport, {
      send(message) {
        if (edge.closing) throw new PipeClosedError('the connection is closing');
        toClient(edge, message);
      },
      close(code, reason) {
        handle.closed({ local: true, ...codeOf(code), ...(reason !== undefined && { reason }) });
        if (edge.route.kind === 'local' && edge.route.handle === handle)
          edge.pipe.close(code, reason);
      },
      bufferedAmount: () => edge.pipe.bufferedAmount,
      isAlive: (timeoutMs) => edge.pipe.isAlive?.(timeoutMs) ?? Promise.resolve(false),
    });
    return handle;
  }

  function toClient(edge: EdgeConnection, message: string): void {
    // a /roominfo says the announce took: a re-link after its room's home died can be silent
    if (message.startsWith('/roominfo|')) edge.joined = true;
    edge.pipe.send(message);
  }

  function fromClient(edge: EdgeConnection, message: string): void {
    if (edge.held) {
      if (edge.held.length < MAX_HELD) edge.held.push(message);
      else {
        unroutable++;
        if (edge.held.length === MAX_HELD) {
          edge.held.push(message); // one past the bound marks that the client was told
          edge.pipe.send(
            errorMessage(
              'rate-limited',
              'too many messages while the cluster moves this connection',
              {
                retryAfterMs: 1000,
              },
            ),
          );
        }
      }
      return;
    }
    const room = message.startsWith('/announce|') ? roomOf(message) : undefined;
    if (room !== undefined) edge.announce = message;
    if (room !== undefined && room !== edge.route.room) {
      edge.held = [message];
      void reroute(edge, room);
      return;
    }
    forward(edge, message);
  }

  function forward(edge: EdgeConnection, message: string): void {
    const route = edge.route;
    if (route.kind === 'local') route.handle.receive(message);
    else backplane.send(route.home, encodeBus({ kind: 'M', link: edge.link, frame: message }));
  }

  /** Moves `edge` to the home of `room`, then lets what it held through, in order. */
  async function reroute(edge: EdgeConnection, room: string): Promise<void> {
    const home = await homeWithin(room, DIRECTORY_PATIENCE_MS);
    if (edge.closed) return;
    if (home === undefined) {
      // the directory is out of reach: this announce and what waited behind it are refused
      const held = edge.held ?? [];
      edge.held = undefined;
      unroutable += held.length;
      edge.pipe.send(
        errorMessage('rate-limited', 'the cluster directory is unavailable', {
          retryAfterMs: 1000,
        }),
      );
      return;
    }
    const route = edge.route;
    const sameHome =
      route.kind === 'local' ? home === self && route.handle.isOpen : route.home === home;
    if (!sameHome) {
      // the old home keeps the member in its grace window until the new home claims the id,
      // which has the old one release it: the old room hears /leave "moved", as in one hub
      detach(edge);
      edge.route =
        home === self
          ? { kind: 'local', handle: localHandle(edge), room }
          : { kind: 'remote', home, room };
      const context = { ...edge.context, ...(edge.rejoin && { rejoin: true }) };
      edge.rejoin = false;
      if (edge.route.kind === 'local') {
        const handle = edge.route.handle;
        await adopt(room);
        hub.accept(handle.pipe, { ...context, link: edge.link });
      } else
        backplane.send(
          home,
          encodeBus({
            kind: 'J',
            link: edge.link,
            room,
            // credentials included: the home's hub authenticates (the bus is private)
            context: stringifyJson(context) ?? '{}',
          }),
        );
    } else edge.route = { ...route, room };
    let held = edge.held ?? [];
    edge.held = undefined;
    if (held.length > 1 && held[0]!.startsWith('/announce|')) {
      // many frames waited (a drain's hold): the announce goes first and the rest once the
      // home's hub took it, since a hub buffers only so much behind a pending announce
      fromClient(edge, held[0]!);
      edge.held = held.slice(1);
      await announced(edge);
      held = edge.held ?? [];
      edge.held = undefined;
      if (edge.closed) return;
    }
    // a second announce among them may start another reroute, which holds the rest again
    for (const message of held) fromClient(edge, message);
  }

  /** Resolves once the hub homing `edge` has no announce pending (bounded by a request's timeout). */
  async function announced(edge: EdgeConnection): Promise<void> {
    const route = edge.route;
    if (route.kind === 'local') await hub.idle();
    else await request(route.home, 'idle', '');
  }

  /** The home of `room`, retried while the directory is unreachable; undefined past `patienceMs`. */
  async function homeWithin(room: string, patienceMs: number): Promise<string | undefined> {
    const deadline = Date.now() + patienceMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      try {
        return await backplane.home(room, self);
      } catch {
        if (Date.now() + delay > deadline) return undefined;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Ends the current route without telling the client. */
  function detach(edge: EdgeConnection): void {
    const route = edge.route;
    if (route.kind === 'local') route.handle.closed({ local: false, code: CloseCode.normal });
    else
      backplane.send(route.home, encodeBus({ kind: 'C', link: edge.link, code: CloseCode.normal }));
  }

  function fromHome(from: string, frame: BusFrame): void {
    if (frame.kind !== 'D' && frame.kind !== 'X') return;
    const edge = edges.get(frame.link);
    // a home this connection has left may still have been talking to it
    if (!edge || edge.route.kind !== 'remote' || edge.route.home !== from) return;
    if (frame.kind === 'D') return void toClient(edge, frame.frame);
    if (frame.reason === REROUTE && edge.announce && edge.reroutes++ < MAX_REROUTES) {
      // not the room's home after all (the room emptied and moved): find it again and announce
      // anew; frames sent after the announce went to the old home and are lost (counted there)
      const room = edge.route.room;
      const handle = localHandle(edge);
      handle.closed({ local: true, code: CloseCode.normal });
      edge.route = { kind: 'local', handle };
      edge.held = [edge.announce];
      void reroute(edge, room);
      return;
    }
    edge.pipe.close(frame.code, frame.reason);
  }

  // ---- the home: members linked here from other edges ----

  async function linked(from: string, link: string, room: string, context: string) {
    const home = await homeWithin(room, DIRECTORY_PATIENCE_MS);
    if (home !== self)
      return backplane.send(
        from,
        encodeBus({ kind: 'X', link, code: CloseCode.goingAway, reason: REROUTE }),
      );
    await adopt(room);
    const given = JSON.parse(context) as ConnectionContext;
    const handle: PipeHandle = definePipe(given.transport, {
      send(message) {
        if (closingLinks.has(link)) throw new PipeClosedError('the connection is closing');
        backplane.send(from, encodeBus({ kind: 'D', link, frame: message }));
      },
      close(code, reason) {
        homed.delete(link);
        backplane.send(
          from,
          encodeBus({ kind: 'X', link, code: code ?? CloseCode.normal, reason: reason ?? '' }),
        );
        handle.closed({ local: true, ...codeOf(code), ...(reason !== undefined && { reason }) });
      },
      isAlive: async () => (await request(from, 'link-alive', link)) === '1',
    });
    homed.set(link, { edge: from, handle });
    handle.pipe.onClose(() => closingLinks.delete(link));
    hub.accept(handle.pipe, { ...given, link });
  }

  const offFrame = backplane.onFrame((from, text) => {
    const frame = decodeBus(text);
    if (!frame) return;
    switch (frame.kind) {
      case 'J':
        // frames that follow a J wait behind it: the hub holds a connection's messages while
        // its announce runs, but the link must exist first
        return void linkedInOrder(from, frame.link, frame.room, frame.context);
      case 'M':
        return void whenLinked(frame.link, (handle) => handle.receive(frame.frame));
      case 'C':
        return void whenLinked(frame.link, (handle) => {
          homed.delete(frame.link);
          handle.closed({ local: false, ...codeOf(frame.code) });
        });
      case 'Q':
        // a handler that throws answers '' (the asker treats it as no)
        return void answer(frame.request, frame.arg, from)
          .catch((): string => '')
          .then((value) =>
            backplane.send(from, encodeBus({ kind: 'R', req: frame.req, answer: value })),
          );
      case 'R':
        return requests.get(frame.req)?.(frame.answer);
      default:
        return fromHome(from, frame);
    }
  });

  // J needs an await (is this node still the room's home?); M and C frames for a link that is
  // being linked wait for it, so a connection's frames keep their order
  const linking = new Map<string, Array<(handle: PipeHandle | undefined) => void>>();
  function linkedInOrder(from: string, link: string, room: string, context: string): void {
    linking.set(link, []);
    void linked(from, link, room, context).finally(() => {
      const waiting = linking.get(link) ?? [];
      linking.delete(link);
      const handle = homed.get(link)?.handle;
      for (const run of waiting) run(handle);
    });
  }
  function whenLinked(link: string, run: (handle: PipeHandle) => void): void {
    const waiting = linking.get(link);
    if (waiting) return void waiting.push((handle) => handle && run(handle));
    const handle = homed.get(link)?.handle;
    if (handle) run(handle);
  }

  const offDown = backplane.onNodeDown((node) => {
    // members whose edge died: a hard disconnect each, so grace windows and /leave follow
    for (const [link, entry] of homed) {
      if (entry.edge !== node) continue;
      homed.delete(link);
      entry.handle.closed({ local: false, code: CloseCode.abnormal });
    }
    // connections whose room's home died: linked to the room's new home, silently if they had
    // joined (the new home restores the room from the dead home's mirror)
    for (const edge of edges.values()) {
      if (edge.route.kind !== 'remote' || edge.route.home !== node || !edge.announce) continue;
      const room = edge.route.room;
      const handle = localHandle(edge);
      handle.closed({ local: true, code: CloseCode.normal });
      edge.route = { kind: 'local', handle };
      edge.rejoin = edge.joined;
      edge.held = [edge.announce, ...(edge.held ?? [])];
      void reroute(edge, room);
    }
  });

  /**
   * A drain (docs/cluster.md, "Drain"): nothing sent to this node's rooms is lost.
   * 1. Its clients are closed with 1012 and reconnect at once, through another node, to the
   *    rooms still homed here: they take their members over, and what waited for them in their
   *    grace windows reaches them.
   * 2. Every other node holds what its connections send here; its answer follows all it sent
   *    before, so once every node answered, everything in flight has been routed.
   * 3. This node leaves the lease set and says goodbye: the others take its rooms over from
   *    the mirrors at once and release what they held to the new homes, in order.
   * The hub closes last, with the bus gone, so its members are dropped without a word.
   */
  async function drain(): Promise<void> {
    draining = true;
    // deliveries to this node's clients stop first (they queue at the homes, and each remote
    // home's answer follows what it sent before), then the clients are closed; what they send
    // until their transports close still goes through
    const clients = [...edges.values()];
    for (const edge of clients) edge.closing = true;
    await Promise.all(
      clients.map((edge) =>
        edge.route.kind === 'remote' ? request(edge.route.home, 'closing', edge.link) : undefined,
      ),
    );
    for (const edge of clients)
      edge.pipe.close(CloseCode.serviceRestart, 'server restarting: reconnect');
    // a transport's close handshake takes a moment (ws: up to 1 s), then the members are in
    // their grace windows here, until their clients come back through other nodes
    await until(() => edges.size === 0, CLOSE_WAIT_MS);
    const { graceMs } = resolveOptions(options);
    await until(() => hub.stats().inGrace === 0 && linking.size === 0, graceMs + 500);
    // the live nodes, and any node with a member in a room here that this view has not met yet
    const others = [
      ...new Set([...backplane.nodes(), ...[...homed.values()].map((entry) => entry.edge)]),
    ].filter((other) => other !== self);
    await Promise.all(others.map((other) => request(other, 'hold', '')));
    await until(() => linking.size === 0, REQUEST_TIMEOUT_MS);
    await backplane.leave();
    await Promise.all(others.map((other) => request(other, 'bye', '')));
    offFrame();
    offDown();
    offFenced();
    await backplane.close();
    hub.close();
  }

  // docs/cluster.md, "Fencing": while this node could not run, the others declared it dead and
  // took its rooms and ids; what it still holds is stale. Its clients reconnect at once and
  // take their members over wherever those went (inside the grace window, silently).
  const offFenced = backplane.onFenced(() => {
    fenced++;
    homed.clear();
    linking.clear();
    hub.reset(CloseCode.serviceRestart, 'server restarting: reconnect');
    for (const edge of [...edges.values()]) {
      edge.closed = true; // an announce finding its home must not link it anywhere
      edge.pipe.close(CloseCode.serviceRestart, 'server restarting: reconnect');
    }
  });

  return {
    node: self,
    hub,
    accept,
    get connections() {
      return edges.size;
    },
    get unroutable() {
      return unroutable;
    },
    get fenced() {
      return fenced;
    },
    ask: (to, kind, arg) => request(to, kind, arg),
    serve(kind, handler) {
      if (kind.includes('|') || answers.has(kind))
        throw new Error(`cannot serve requests of kind ${kind}: taken`);
      answers.set(kind, handler);
    },
    close: () => (drained ??= drain()),
  };
}

/** The room of an announce, read from its payload; undefined when it has none. */
function roomOf(message: string): string | undefined {
  const header = parseHeader(message);
  try {
    const data = JSON.parse(payloadOf(message, header)) as { room?: unknown };
    return typeof data.room === 'string' ? data.room : undefined;
  } catch {
    return undefined;
  }
}

/** The edge node of a link (`<node>.<n>`). */
function edgeOf(link: string): string {
  return link.slice(0, link.lastIndexOf('.'));
}

function codeOf(code: number | undefined): { code?: number } {
  return code === undefined ? {} : { code };
}

/** Resolves once `done()` holds, or after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
