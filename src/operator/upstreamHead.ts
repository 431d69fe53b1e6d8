// The execution client's head as the operator node needs it (the lag fault, the log-range and gas caps):
// read at most once per `maxAgeMs`, and once for all callers that ask while a read is in flight, so the
// limits add no round trip per request.

/** What the node knows about the execution client's latest block. */
export interface UpstreamHeadInfo {
  number: bigint;
  /** The latest block's gas limit: no call may be given more gas than a block holds. */
  gasLimit: bigint;
}

export class UpstreamHead {
  private cached: { value: UpstreamHeadInfo; at: number } | undefined;
  private inFlight: Promise<UpstreamHeadInfo> | undefined;

  constructor(
    private readonly read: () => Promise<UpstreamHeadInfo>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The head, read again when the cached one is older than `maxAgeMs`. */
  get(maxAgeMs: number): Promise<UpstreamHeadInfo> {
    const cached = this.cached;
    if (cached !== undefined && this.now() - cached.at < maxAgeMs) return Promise.resolve(cached.value);
    this.inFlight ??= this.read()
      .then((value) => {
        this.cached = { value, at: this.now() };
        return value;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
