/**
 * Failed authentication per client address, checked before the key is: after `limit` invalid keys from one
 * address within a minute, every /v1 request from that address is refused (429 with Retry-After) until
 * the minute is over, a correct key included. Were a correct key let through, the one answer that is not
 * 429 would tell a guesser which key was right, and guessing would go on at full speed.
 *
 * Fixed windows: an address's minute starts at its first failure. Windows that are over are swept at most
 * once a minute, so memory follows the addresses that failed in the last minute.
 */
export class AuthFailureThrottle {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();
  private nextSweep = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may present a key again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const window = this.windows.get(address);
    const now = this.now();
    if (!window || window.endsAt <= now || window.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((window.endsAt - now) / 1000));
  }

  /** Counts an invalid key from `address`; true when this failure used up its allowance. */
  recordFailure(address: string): boolean {
    const now = this.now();
    this.sweep(now);
    const window = this.windows.get(address);
    if (!window || window.endsAt <= now) {
      this.windows.set(address, { failures: 1, endsAt: now + this.windowMs });
      return this.limit === 1;
    }
    window.failures += 1;
    return window.failures === this.limit;
  }

  /** Addresses held in memory: those whose window was open at the last sweep. */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.windowMs;
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
  }
}
