/**
 * Per-connection state. Deliberately a plain object of numbers and references: no timers (a
 * shared sweep checks `deadline`), no buffers beyond the decoder's single partial frame.
 */
import type { Socket } from 'node:net';
import { FrameDecoder } from './protocol/framing.ts';
import { PRE_AUTH_MAX_FRAME_BYTES, type TypedMessageQueue } from './protocol/messages.ts';

export enum ConnState {
  /** Waiting for the PROXY protocol header. */
  Proxy = 0,
  /** Waiting for hello. */
  Hello = 1,
  /** hello received, credentials being checked; further frames are queued. */
  Authenticating = 2,
  Open = 3,
  /** Fatal error sent or drain finished; waiting for the socket to go away. */
  Closing = 4,
  Closed = 5,
}

export class Connection {
  state: ConnState;
  readonly decoder = new FrameDecoder(PRE_AUTH_MAX_FRAME_BYTES);
  /** Partial PROXY header bytes (Proxy state only). */
  proxyBuf: Buffer | null = null;
  /** Epoch ms: hello deadline, silence deadline, or forced-destroy deadline depending on state. */
  deadline: number;
  displayId = '';
  sessionId = '';
  /** Version the display says it shows (hello, heartbeat, playlist_ack). */
  appliedVersion = 0;
  /** Last "seen" reported to api-v2 for this session: when, and with which applied version. */
  seenReportedAt = 0;
  seenReportedVersion = -1;
  /** Last playlist version sent on this connection and when. */
  sentVersion = 0;
  sentAt = 0;
  /** When this display's latest version was last confirmed with api-v2. */
  versionCheckedAt = 0;
  fetching = false;
  refetch = false;
  /** Latency clock (epoch ms) of the oldest change not yet pushed, for the push-latency histogram. */
  pushStartedAt = 0;
  playsInFlight = 0;
  /** Our own session-opened announcement came back on the bus (see session handling in device-server). */
  announced = false;
  /** Frames that arrived after hello while authenticating. */
  queued: TypedMessageQueue | null = null;
  closeReason = '';
  /** Counted in the per-address connection limit (released on close). */
  counted = false;

  constructor(
    readonly socket: Socket,
    public remoteAddress: string,
    state: ConnState,
    deadline: number,
  ) {
    this.state = state;
    this.deadline = deadline;
  }

  get isOpen(): boolean {
    return this.state === ConnState.Open;
  }
}
