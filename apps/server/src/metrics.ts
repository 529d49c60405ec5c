/** Prometheus metrics: the hub's `stats()` read at scrape time, plus process metrics. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { JwtAuthorityStats } from '@switchyard/auth';
import type { BackplaneStats } from '@switchyard/cluster';
import type { Hub } from '@switchyard/hub';

/**
 * A registry whose metrics read `hub.stats()` (and the JWT authority's counters, when there is
 * one) when scraped; nothing runs between scrapes.
 */
export function hubMetrics(
  hub: Hub,
  jwt?: () => JwtAuthorityStats,
  backplane?: () => BackplaneStats,
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    'switchyard_connections',
    'Open connections on every transport.',
    () => hub.stats().connections,
  );
  gauge(
    'switchyard_members',
    'Announced peers, including those inside their grace window.',
    () => hub.stats().members,
  );
  gauge('switchyard_rooms', 'Rooms with at least one member.', () => hub.stats().rooms);
  gauge(
    'switchyard_in_grace',
    'Members disconnected but inside their grace window.',
    () => hub.stats().inGrace,
  );

  // counters mirror monotonic hub totals: set the difference since the last scrape
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    read: () => Record<string, number>,
  ) => {
    const seen = new Map<string, number>();
    return new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const [label, total] of Object.entries(read())) {
          const delta = total - (seen.get(label) ?? 0);
          if (delta > 0) this.inc(labelNames.length > 0 ? { [labelNames[0]!]: label } : {}, delta);
          seen.set(label, total);
        }
      },
    });
  };
  counter('switchyard_messages_in_total', 'Messages received from clients.', [], () => ({
    '': hub.stats().messagesIn,
  }));
  counter('switchyard_messages_out_total', 'Messages sent to clients.', [], () => ({
    '': hub.stats().messagesOut,
  }));
  counter('switchyard_errors_sent_total', '/error replies by code.', ['code'], () => {
    const errors: Record<string, number> = {};
    for (const [code, count] of Object.entries(hub.stats().errorsSent)) errors[code] = count ?? 0;
    return errors;
  });
  counter('switchyard_dropped_total', 'Messages dropped, by reason.', ['reason'], () => ({
    ...hub.stats().dropped,
  }));
  counter(
    'switchyard_closed_total',
    'Connections closed by the server, by reason.',
    ['reason'],
    () => ({
      ...hub.stats().closed,
    }),
  );
  if (jwt) {
    counter(
      'switchyard_jwt_checks_total',
      'JWT signature and claim checks, by verdict.',
      ['verdict'],
      () => {
        const { verified, refused } = jwt();
        return { verified, refused };
      },
    );
    counter(
      'switchyard_jwt_cache_hits_total',
      'Token verdicts answered from the cache.',
      [],
      () => ({
        '': jwt().cacheHits,
      }),
    );
    gauge('switchyard_jwt_cached', 'Token verdicts in the cache.', () => jwt().cached);
  }
  if (backplane) {
    counter(
      'switchyard_cluster_frames_total',
      'Frames between nodes, by direction.',
      ['direction'],
      () => {
        const { published, received } = backplane();
        return { published, received };
      },
    );
    counter('switchyard_cluster_batches_total', 'Bus messages the frames went out in.', [], () => ({
      '': backplane().batches,
    }));
    counter(
      'switchyard_cluster_dropped_total',
      'Frames between nodes dropped (or duplicates discarded), by reason.',
      ['reason'],
      () => ({ ...backplane().dropped }),
    );
    counter('switchyard_cluster_node_deaths_total', 'Nodes seen to die.', [], () => ({
      '': backplane().nodeDeaths,
    }));
    counter(
      'switchyard_cluster_fenced_total',
      'Times this node was declared dead while paused, and started afresh.',
      [],
      () => ({ '': backplane().fenced }),
    );
    gauge(
      'switchyard_cluster_queued',
      'Frames waiting for the bus (an outage).',
      () => backplane().queued,
    );
  }
  return registry;
}
