import { describe, expect, it } from 'vitest';
import { RedeliveryFilter, RESEND_WINDOW_MS, WINDOW } from './shared/redelivery.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('redelivery filter', () => {
  it('drops a message an earlier connection of the session already handled, once per resend', () => {
    const filter = new RedeliveryFilter();
    filter.connected(0);
    expect(filter.isRedelivery(7, text('/to|D|/x|A|1'), 10)).toBe(false);
    filter.connected(100); // the PUBACK was lost with the connection
    expect(filter.isRedelivery(7, text('/to|D|/x|A|1'), 110)).toBe(true);
    // lost again before its PUBACK: recognised on the next connection too
    filter.connected(200);
    expect(filter.isRedelivery(7, text('/to|D|/x|A|1'), 210)).toBe(true);
  });

  it('keeps new messages: another payload, another id, the same connection, or too late', () => {
    const filter = new RedeliveryFilter();
    filter.connected(0);
    filter.isRedelivery(1, text('/a|A|1'), 1);
    // within one connection a broker never resends: the same id and payload is a new message
    expect(filter.isRedelivery(1, text('/a|A|1'), 2)).toBe(false);
    filter.connected(10);
    expect(filter.isRedelivery(1, text('/a|A|2'), 11)).toBe(false); // same id, new payload
    expect(filter.isRedelivery(2, text('/a|A|1'), 12)).toBe(false); // same payload, new id
    expect(filter.isRedelivery(undefined, text('/a|A|1'), 13)).toBe(false); // QoS 0
    filter.isRedelivery(3, text('/b|A|1'), 14);
    filter.connected(20);
    expect(filter.isRedelivery(3, text('/b|A|1'), 20 + RESEND_WINDOW_MS + 1)).toBe(false);
  });

  it('remembers a bounded window', () => {
    const filter = new RedeliveryFilter();
    filter.connected(0);
    for (let id = 1; id <= WINDOW + 1; id++) filter.isRedelivery(id, text(`/m|A|${id}`), 1);
    filter.connected(2);
    expect(filter.isRedelivery(1, text('/m|A|1'), 3)).toBe(false); // forgotten
    expect(filter.isRedelivery(WINDOW + 1, text(`/m|A|${WINDOW + 1}`), 3)).toBe(true);
  });
});
