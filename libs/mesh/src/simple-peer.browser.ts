/**
 * The default peer factory in browsers: simple-peer's own standalone build. Its sources need the
 * Node globals `process`, `Buffer` and `global`, which bundlers no longer shim; the standalone
 * build carries its own, so an app needs no defines or polyfills.
 */
// @ts-expect-error the standalone build ships no types; it is the same constructor as 'simple-peer'
import SimplePeer from 'simple-peer/simplepeer.min.js';
import type { PeerFactory, PeerInit, PeerLike } from './types.ts';
import { simplePeerOptions } from './simple-peer-options.ts';

const Peer = SimplePeer as new (options: ReturnType<typeof simplePeerOptions>) => PeerLike;

export const simplePeerFactory: PeerFactory = (init: PeerInit) => new Peer(simplePeerOptions(init));
