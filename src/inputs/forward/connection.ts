import type { Socket } from 'node:net';
import { Packr } from 'msgpackr';
import type { InputContext } from '../../core/plugin.js';
import { ForwardFrameDecoder, type ForwardFrame, type ForwardFrameDecoderOptions } from './decoder.js';
import { ForwardProtocolError } from '../../forward/protocol-error.js';
import { ForwardHandshake, type ForwardSecurityOptions, type PingMessage } from './handshake.js';
import { FrameReport } from './frame-report.js';
import type { ForwardMetrics, TimeoutReason } from './metrics.js';
import type { TranscodePool } from '../../msgpack/transcode-pool.js';
import type { JsonDemand } from './json-demand.js';

const packr = new Packr({ useRecords: false });

/** What a connection needs from its server. */
export interface ForwardConnectionHost {
  readonly ctx: InputContext;
  readonly metrics: ForwardMetrics;
  readonly decoderOptions: ForwardFrameDecoderOptions;
  /** Set when clients must pass the HELO / PING / PONG handshake first. */
  readonly security: ForwardSecurityOptions | undefined;
  /** Backpressure: true while the pipeline asked the input to stop reading. */
  readonly paused: boolean;
  /** Prints packed records' JSON on a worker thread before their chunk is emitted (`threaded`). */
  readonly transcoder: TranscodePool | undefined;
  /** Whether the transcoder's JSON gets read: it prints only while it does. */
  readonly jsonDemand?: JsonDemand;
  closed(connection: ForwardConnection): void;
  /** The bytes a connection's decoder holds changed by `delta` (the buffer_total_limit_size budget). */
  holding(connection: ForwardConnection, delta: number): void;
}

/**
 * `handshake`: HELO sent, waiting for the PING (nothing else is read as events);
 * `open`: frames are events; `rejected`: PONG false sent, reading and dropping until the client leaves.
 */
type State = 'handshake' | 'open' | 'rejected';

/**
 * One client connection. Frames are emitted strictly in order, one at a time, and a chunk is acked
 * only once its emit resolved, so acks go out in the order chunks came in. With a transcode pool a
 * frame is first handed to its thread, and the next frame is decoded meanwhile: at most
 * MAX_QUEUED frames wait per connection; while they do, the socket is read only until the next
 * frame is in whole or READ_AHEAD_BYTES of it are (not decoded), which bounds what a connection holds
 * to those frames, the next frame's buffer and one read.
 *
 * One frame ahead keeps the print thread busy while the main thread emits: the next frame is decoded
 * and handed to the thread as the emit of the one before starts. Two ahead measured
 * (forward-packed-1k-long, medians of 5, before the read-ahead below) 175k against 159k events/s,
 * but 281 against 210 MiB peak RSS and more CPU per GiB: the extra chunk's bytes and events lived
 * long enough to be promoted.
 */
const MAX_QUEUED = 1;
/**
 * Bytes read ahead, not yet decoded, while MAX_QUEUED frames wait: the next frame is then decoded the
 * moment there is room, instead of being read first. 1 MiB measured better than 2 (and than none):
 * forward-packed-1k-long 165k events/s at 211 MiB, against 160k at 235 and 151k at 199.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

interface QueuedFrame {
  frame: ForwardFrame;
  /** False while the transcode pool works on it. */
  ready: boolean;
}

export class ForwardConnection {
  readonly remote: string;
  /** ms timestamps: when it connected, and when its last frame came in whole (0: none yet). */
  readonly openedAt: number;
  lastFrameAt = 0;
  /** ms timestamp since which a frame has been arriving without being whole (0: none is); only time spent able to read counts. */
  frameSince = 0;
  /** Bytes its decoder holds, as last reported to the host. */
  held = 0;
  private readonly decoder: ForwardFrameDecoder;
  /** READ_AHEAD_BYTES, or buffer_max_size if smaller: a frame over it is refused before it is read whole. */
  private readonly readAhead: number;
  private readonly handshake: ForwardHandshake | undefined;
  private state: State;
  /** Decoded frames not emitted yet, in order. */
  private readonly queue: QueuedFrame[] = [];
  /** An emit for this connection is pending. */
  private emitting = false;
  /** The client half-closed: finish the frames received, then close our side. */
  private ended = false;
  private closed = false;
  /** Malformed data was seen: the socket is being destroyed, read nothing more. */
  private failed = false;
  /**
   * Malformed data follows the frames still queued: those are emitted and acked first (the client
   * cannot tell which frames were good), then the connection fails with this.
   */
  private failing: ForwardProtocolError | undefined;
  /** Acks are waiting in the socket's write buffer: a client that does not read them is not read either. */
  private draining = false;
  private readonly report: FrameReport;
  private warnedRejected = false;
  /** ms timestamps for net.io_timeout and net.accept_timeout; only time spent able to read counts. */
  private lastActivity: number;
  private handshakeSince: number;
  /** The input is stopping: `finishing` the frames received, then `ended` (our side shut, the rest dropped). */
  private stopping: 'no' | 'finishing' | 'ended' = 'no';
  private readonly whenClosed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly host: ForwardConnectionHost,
    now = Date.now(),
  ) {
    this.remote = socket.remoteAddress === undefined ? 'unix socket' : `${socket.remoteAddress}:${socket.remotePort ?? '?'}`;
    this.decoder = new ForwardFrameDecoder(host.decoderOptions);
    this.report = new FrameReport(host.metrics, host.ctx.log, this.remote);
    this.readAhead = Math.min(READ_AHEAD_BYTES, host.decoderOptions.bufferMaxSize);
    this.openedAt = now;
    this.lastActivity = now;
    this.handshakeSince = now;
    // Acks are small writes a client waits for: do not hold them back for Nagle.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.host.ctx.log.debug({ remote: this.remote, err: err.message }, 'forward connection error'));
    socket.on('close', () => this.onClose());
    this.whenClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    if (host.security) {
      this.handshake = new ForwardHandshake(host.security);
      this.state = 'handshake';
      // The handshake is msgpack: a client's encoding is only known from what it sends back.
      socket.write(packr.pack(this.handshake.helo()));
    } else {
      this.state = 'open';
    }
    if (host.paused) socket.pause();
  }

  /** Backpressure is over: handle frames already received and read again. */
  resume(): void {
    this.proceed();
  }

  /** Backpressure: stop reading; the connection stays open. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The input stops (exit or reload): read nothing more, emit and ack the frames received whole, then
   * shut our side. What the client sends after that is read and dropped, never acked (it sends it
   * again, to the next listener), so that it reads its last acks rather than a reset. A frame cut
   * short is dropped the same way. Resolves once the connection is closed.
   */
  close(): Promise<void> {
    if (!this.closed && this.stopping === 'no') {
      this.stopping = 'finishing';
      this.socket.pause();
      this.proceed();
    }
    return this.whenClosed;
  }

  /** Frames are waiting or being emitted: closing now would leave a chunk without its ack. */
  busy(): boolean {
    return this.emitting || this.queue.length > 0;
  }

  /**
   * Closed by the server to make room for other clients (net.max_connections, buffer_total_limit_size).
   * Frames already whole are still delivered (without acks: the socket is gone); the frame being
   * received is dropped, and its bytes released at once. Nothing dropped was acked.
   */
  evict(): void {
    if (this.closed || this.failed) return;
    if (this.state === 'open' && this.failing === undefined) this.takeRemainingFrames();
    this.failed = true;
    this.decoder.discard();
    this.syncHeld();
    this.socket.destroy();
  }

  /**
   * Called by the server's timer. Time paused by backpressure, or waiting for the pipeline or for
   * the client to read its acks, does not count: the client is not the one being slow.
   */
  checkTimeouts(now: number, ioTimeoutMs: number, acceptTimeoutMs: number, frameTimeoutMs: number): void {
    if (this.closed || this.failed) return;
    if (this.host.paused || this.busy() || this.draining) {
      this.lastActivity = now;
      this.handshakeSince = now;
      if (this.frameSince > 0) this.frameSince = now;
      return;
    }
    if (this.state !== 'open' && now - this.handshakeSince > acceptTimeoutMs) {
      const why = this.state === 'handshake' ? 'no PING within net.accept_timeout' : 'rejected client did not disconnect';
      this.timeout('accept_timeout', why, acceptTimeoutMs);
    } else if (frameTimeoutMs > 0 && this.frameSince > 0 && now - this.frameSince > frameTimeoutMs) {
      this.timeout('frame_timeout', 'a frame not received whole within net.frame_timeout', frameTimeoutMs);
    } else if (ioTimeoutMs > 0 && now - this.lastActivity > ioTimeoutMs) {
      this.timeout('io_timeout', 'nothing received for net.io_timeout', ioTimeoutMs);
    }
  }

  /** Closed for a timeout: a frame cut short by it is counted here, not as the client's truncation. */
  private timeout(reason: TimeoutReason, why: string, ms: number): void {
    this.failed = true;
    if (this.state !== 'rejected') {
      this.host.metrics.connectionTimeouts[reason].inc();
      this.host.ctx.log.info({ remote: this.remote, reason: why, timeout_ms: ms, partial_bytes: this.decoder.pendingBytes || undefined }, 'forward: closing connection');
    }
    this.decoder.discard();
    this.syncHeld();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.host.metrics.bytes.inc(chunk.length);
    this.lastActivity = Date.now();
    if (this.state === 'rejected' || this.failing !== undefined || this.stopping === 'ended') return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof ForwardProtocolError) return this.fail(err);
      throw err;
    }
    this.proceed();
  }

  private onEnd(): void {
    this.ended = true;
    if (this.state === 'rejected') return;
    this.proceed();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed && this.failing === undefined && this.state === 'open') {
      // Frames received whole before the close are still delivered (their acks cannot be sent);
      // only a frame cut short is dropped.
      this.takeRemainingFrames();
      if (this.decoder.pendingBytes > 0) this.truncated();
    }
    // Closed while holding back a decode error for the frames before it: count it now.
    if (this.failing !== undefined) this.fail(this.failing);
    this.decoder.discard();
    this.syncHeld();
    this.host.closed(this);
    this.emitNext();
  }

  /** After a close: every whole frame still in the decoder joins the queue (the socket can no longer be paused). */
  private takeRemainingFrames(): void {
    for (;;) {
      let frame: ForwardFrame | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (err instanceof ForwardProtocolError) return this.fail(err);
        throw err;
      }
      if (!frame) return;
      this.received(frame);
      this.queue.push({ frame, ready: true });
    }
  }

  /** Decode and emit what can be, then read more if allowed; then report the bytes the decoder holds. */
  private proceed(): void {
    this.step();
    this.syncHeld();
  }

  /**
   * Tells the host how many bytes the decoder holds now, and starts the frame timer when a frame is
   * arriving (stops it when none is): called after every read and decode, not per record.
   */
  private syncHeld(): void {
    const held = this.decoder.heldBytes;
    if (this.decoder.pendingBytes === 0) this.frameSince = 0;
    else if (this.frameSince === 0) this.frameSince = Date.now();
    if (held === this.held) return;
    const delta = held - this.held;
    this.held = held;
    this.host.holding(this, delta);
  }

  private step(): void {
    this.pump();
    this.emitNext();
    if (this.failing !== undefined && !this.busy() && !this.closed && !this.failed) return this.fail(this.failing);
    if (this.closed || this.failed || this.failing !== undefined || this.state === 'rejected' || this.host.paused || this.draining) return;
    if (this.stopping !== 'no') {
      if (this.stopping === 'finishing' && !this.busy()) this.endForStop();
      return;
    }
    if (this.ended) {
      if (!this.busy()) this.finish();
    } else if (this.queue.length < MAX_QUEUED && !(this.emitting && this.host.transcoder === undefined)) {
      this.socket.resume();
    } else if (this.host.transcoder !== undefined && this.decoder.pendingBytes < this.readAhead && !this.decoder.holdsFrame()) {
      // A frame waits: read the next one's bytes meanwhile (not decoded yet), so that it is ready to
      // decode the moment the queue has room. Only up to one whole frame.
      this.socket.resume();
    } else {
      this.socket.pause();
    }
  }

  /**
   * Emits the first queued frame once it is ready, one emit at a time. Frames of a connection that
   * closed meanwhile are emitted too, paused or not: those queued, and those read ahead (a frame and
   * one read at most).
   */
  private emitNext(): void {
    while (!this.emitting && this.queue.length > 0 && this.queue[0]!.ready && (this.closed || !this.host.paused)) {
      const { frame } = this.queue.shift()!;
      if (frame.events.length === 0) {
        // Nothing to queue (heartbeat-like, all invalid, or another signal): ack so the client moves on.
        this.ack(frame);
        continue;
      }
      this.emitting = true;
      // With a print thread, the next frame is decoded and handed to it before this one's emit runs:
      // the thread prints it while the main thread filters and batches this one (decoded after the
      // emit, the two took turns: a W1 frame's period was the thread's print plus the main thread's part).
      if (this.host.transcoder !== undefined) this.pump();
      let done: Promise<void>;
      try {
        done = this.host.ctx.emit(frame.events);
      } catch (err) {
        // A filter or output that throws (a bug, or a record it cannot take): the chunk is refused
        // like any other, not acked; the connection and the process stay up.
        done = Promise.reject(err);
      }
      done.then(
        () => this.emitted(frame),
        (err: unknown) => this.rejected(frame, err),
      );
    }
  }

  private pump(): void {
    const { metrics } = this.host;
    while (this.queue.length < MAX_QUEUED && !this.draining && !this.closed && !this.failed && this.failing === undefined && !this.host.paused) {
      // Without a pool there is nothing to overlap: decode the next frame only once this one is emitted.
      if (this.host.transcoder === undefined && this.busy()) return;
      if (this.state === 'handshake') {
        let message: { ping: PingMessage | undefined } | undefined;
        try {
          message = this.decoder.nextPing();
        } catch (err) {
          if (err instanceof ForwardProtocolError) return this.fail(err);
          throw err;
        }
        if (!message) return;
        if (!this.authenticate(message.ping)) return;
        continue;
      }
      if (this.state !== 'open') return;
      let frame: ForwardFrame | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (!(err instanceof ForwardProtocolError)) throw err;
        if (!this.busy()) return this.fail(err);
        // Deliver and ack the good frames before it first.
        this.failing = err;
        this.socket.pause();
        return;
      }
      if (!frame) return;
      this.received(frame);
      const queued: QueuedFrame = { frame, ready: true };
      this.queue.push(queued);
      const printed = this.host.jsonDemand?.wanted === false ? undefined : this.host.transcoder?.prepare(frame.events);
      if (printed !== undefined) {
        queued.ready = false;
        void printed.then((n) => {
          if (n > 0) metrics.threadPrinted.inc(n);
          queued.ready = true;
          this.proceed();
        });
      }
      this.emitNext();
    }
  }

  /** Answers the PING; true when the client may now send events. */
  private authenticate(ping: PingMessage | undefined): boolean {
    const result = this.handshake!.check(ping);
    const reply = this.encode(result.pong);
    if (result.ok) {
      this.state = 'open';
      this.write(reply);
      this.host.ctx.log.debug({ remote: this.remote, hostname: printable(ping!.hostname) }, 'forward: client authenticated');
      return true;
    }
    this.state = 'rejected';
    this.host.metrics.authFailures.inc();
    this.host.ctx.log.warn(
      { remote: this.remote, reason: result.reason, hostname: ping ? printable(ping.hostname) : undefined, username: ping ? printable(ping.username) : undefined },
      'forward: handshake failed, closing the connection',
    );
    // End our side after the PONG; keep reading (and dropping) so the client reads the PONG rather
    // than a reset, until it leaves or net.accept_timeout runs out.
    this.handshakeSince = Date.now();
    this.socket.end(reply);
    this.socket.resume();
    return false;
  }

  private emitted(frame: ForwardFrame): void {
    this.emitting = false;
    this.host.jsonDemand?.observe(frame.events);
    if (!this.closed && !this.failed) this.ack(frame);
    this.proceed();
  }

  /** Not acked: a client that asked for acks sends the chunk again; the connection stays usable. */
  private rejected(frame: ForwardFrame, err: unknown): void {
    this.emitting = false;
    this.host.metrics.rejectedRecords.inc(frame.events.length);
    if (!this.warnedRejected) {
      this.warnedRejected = true;
      this.host.ctx.log.warn(
        { remote: this.remote, tag: frame.tag, records: frame.events.length, err: err instanceof Error ? err.message : String(err) },
        'forward: the pipeline refused a chunk; not acknowledging it (logged once per connection)',
      );
    }
    this.proceed();
  }

  private ack(frame: ForwardFrame): void {
    const chunk = frame.option?.chunk;
    if (chunk === undefined || chunk === null || this.socket.destroyed) return;
    this.host.metrics.acks.inc();
    this.write(this.encode({ ack: chunk }));
  }

  /** Replies go back in the encoding the client uses. */
  private encode(value: unknown): Buffer {
    return this.decoder.format === 'json' ? Buffer.from(JSON.stringify(value)) : packr.pack(value);
  }

  private write(bytes: Buffer): void {
    if (this.socket.write(bytes) || this.draining) return;
    this.draining = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.draining = false;
      this.proceed();
    });
  }

  /** A frame decoded: counted and reported, and the connection's progress noted. */
  private received(frame: ForwardFrame): void {
    this.lastFrameAt = Date.now();
    this.frameSince = 0;
    this.report.received(frame);
  }

  private fail(err: ForwardProtocolError): void {
    if (this.failed) return;
    this.failed = true;
    this.host.metrics.malformedFrames.inc();
    this.host.ctx.log.warn({ remote: this.remote, reason: err.message }, 'forward: malformed data, closing the connection');
    this.decoder.discard();
    this.syncHeld();
    if (!this.closed) this.socket.destroy();
  }

  /** The client closed in the middle of a frame: the part received is dropped, and counted. */
  private truncated(): void {
    this.host.metrics.malformedFrames.inc();
    this.host.ctx.log.warn(
      { remote: this.remote, bytes: this.decoder.pendingBytes },
      'forward: the client closed the connection in the middle of a frame; dropping the partial frame',
    );
  }

  /** Stopping, and every frame received whole is acked: shut our side, then drop what still comes. */
  private endForStop(): void {
    this.stopping = 'ended';
    if (this.decoder.pendingBytes > 0) {
      this.host.ctx.log.debug({ remote: this.remote, bytes: this.decoder.pendingBytes }, 'forward: stopping; dropping a frame not received whole (not acked: the client sends it again)');
    }
    this.decoder.discard();
    this.syncHeld();
    this.socket.end();
    this.socket.resume();
  }

  private finish(): void {
    if (this.state === 'open' && this.decoder.pendingBytes > 0) {
      this.failed = true;
      this.truncated();
    }
    this.socket.end();
  }
}

/** A client-sent name for a log line: UTF-8, control characters replaced, at most 64 characters. */
function printable(bytes: Buffer): string {
  const text = bytes.toString('utf8').replace(/[\u0000-\u001f\u007f]/g, '?');
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
