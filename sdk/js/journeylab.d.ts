/** Options of createClient and init. */
export interface Options {
  /** The journeylab server, e.g. "https://ab.example.com". */
  url: string;
  /**
   * An API key of scope sdk (public: it can only assign and record). Sent
   * in the Authorization header, and in the URL (?key=) of the beacons that
   * flush the queues when the page is hidden or left.
   */
  key?: string;
  /** Only this touchpoint's experiments; all running experiments when empty. */
  touchpoint?: string;
  /** Targeting attributes of the visitor. */
  attributes?: Record<string, unknown>;
  /** The unit id; default: the first-party cookie (created when missing). */
  unitId?: string;
  /** A server-rendered POST /v1/assign answer (expose: false): no fetch at all. */
  bootstrap?: { unit_id?: string; assignments: Assignment[] };
  /** How long the assignment fetch may take before ready resolves without it (default 1500). */
  timeoutMs?: number;
  /**
   * How often queued exposures and events are sent (default 1000; 0 sends
   * only on flush() and when the page is hidden or left, with
   * navigator.sendBeacon).
   */
  flushIntervalMs?: number;
  /** Where assignments and unsent batches are kept (default localStorage; null keeps nothing). */
  storage?: Storage | null;
  /** Name of the first-party cookie holding the unit id (default "jl_uid"). */
  cookieName?: string;
  /** Lifetime of that cookie in days (default 365). */
  cookieDays?: number;
}

/** One assignment as POST /v1/assign answers it. */
export interface Assignment {
  experiment: string;
  variant: string;
  payload?: unknown;
  touchpoint?: string;
  stage?: string;
  forced?: boolean;
  sticky?: boolean;
}

/** What variant() returns. */
export interface Variant {
  experiment: string;
  variant: string;
  payload?: unknown;
  /** A QA override: shown, never recorded. */
  forced: boolean;
}

/** Options of track(). */
export interface TrackOptions {
  value?: number;
  attributes?: Record<string, unknown>;
  /** The event id; generated when missing. */
  id?: string;
}

export interface Client {
  /** The unit id (from the cookie unless given). */
  readonly unitId: string;
  /** Resolves when assignments are loaded, or the fetch failed or timed out; never rejects. */
  readonly ready: Promise<Client>;
  /** The last fetch error, or null. */
  readonly error: Error | null;
  /** The unit's variant of the experiment, or null; the first read records the exposure. */
  variant(experiment: string): Variant | null;
  /** Queues an outcome event; returns its id. */
  track(event: string, options?: TrackOptions): string;
  /** Replaces the attributes and refetches when they changed. */
  setAttributes(attributes: Record<string, unknown>): Promise<Client>;
  /** Sends what is queued now. */
  flush(): Promise<void>;
  /** Stops the timer and the pagehide and visibilitychange listeners after a last flush. */
  close(): Promise<void>;
}

/** Creates a client without waiting; await client.ready before reading variants. */
export function createClient(options: Options): Client;
/** Creates a client and waits until it is ready. */
export function init(options: Options): Promise<Client>;
