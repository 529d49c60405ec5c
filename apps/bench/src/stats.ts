/** Latency samples, delivery accounting and percentiles. */

/** Latency samples, capped so a long run cannot grow without bound. */
export class Samples {
  private values: Float64Array;
  private count = 0;
  private seen = 0;
  constructor(private readonly cap = 2_000_000) {
    this.values = new Float64Array(Math.min(cap, 65_536));
  }
  add(value: number): void {
    this.seen += 1;
    if (this.count === this.values.length) {
      if (this.count >= this.cap) {
        // reservoir sampling keeps percentiles honest once the cap is reached
        const slot = Math.floor(Math.random() * this.seen);
        if (slot < this.cap) this.values[slot] = value;
        return;
      }
      const grown = new Float64Array(Math.min(this.cap, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const sorted = this.values.slice(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.floor((p / 100) * this.count))]!;
  }
}

/**
 * Per-sender delivery accounting. Switchyard and the raw relay both keep per-sender FIFO, so a
 * receiver sees each sender's sequence numbers in order: a gap is a loss, a repeat a duplicate.
 */
export class Ledger {
  private readonly last = new Map<string, number>();
  delivered = 0;
  duplicated = 0;
  gaps = 0;
  /** Records delivery of `seq` from `sender` at one receiver (`key` = sender→receiver). */
  record(key: string, seq: number): void {
    const last = this.last.get(key) ?? -1;
    if (seq <= last) {
      this.duplicated += 1;
      return;
    }
    if (seq > last + 1) this.gaps += seq - last - 1;
    this.last.set(key, seq);
    this.delivered += 1;
  }
}

/**
 * `work`, or a rejection naming `what` after `ms`: one run that hangs (a server that stops
 * answering) fails alone instead of holding the whole bench.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
