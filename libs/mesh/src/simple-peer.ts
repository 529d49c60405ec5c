/** The default peer factory: simple-peer 9.11 from its sources (Node and bundlers for Node). */
import SimplePeer from 'simple-peer';
import type { PeerFactory, PeerLike } from './types.ts';
import { simplePeerOptions } from './simple-peer-options.ts';

export const simplePeerFactory: PeerFactory = (init) =>
  new SimplePeer(simplePeerOptions(init) as SimplePeer.Options) as unknown as PeerLike;
