/**
 * One connection from the forward output to a receiver: TCP, TLS or a unix socket; the secure forward
 * handshake when the node has a shared key; then frames, several in flight at once (the sender bounds
 * how many and how many bytes). Each frame is settled on its own: when it is written (flushed to the
 * kernel, as Fluent Bit does) or, with acks, when every chunk id it carries has come back in
 * `{ack: chunk}` replies, in any order; an ack settles only the frame that carries its chunk id.
 *
 * Anything unexpected fails the connection and every frame still in flight on it: an ack for a chunk
 * not in flight here, a HELO when no shared key is set (the server wants a handshake), a reply while
 * nothing waits for one, bytes that are not msgpack, the connection closing before the acks, or one
 * frame not acked within ack_response_timeout. The caller destroys it and sends those frames again.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { HandshakeClient, parseHelo, type Helo } from '../../forward/handshake-client.js';
import { readReply, ReplyFormatError, replyText, type ReplyValue } from '../../forward/reply-reader.js';
import type { ForwardNode } from './upstream-nodes.js';

/** A failed attempt; `kind` says what for metrics and logs. */
export class ForwardSendError extends Error {
  constructor(
    readonly kind: 'connect' | 'handshake' | 'refused' | 'write' | 'ack_timeout' | 'closed' | 'protocol',
    message: string,
  ) {
    super(message);
    this.name = 'ForwardSendError';
  }
}

/** Replies are small (HELO, PONG, acks): more pending bytes than this without one whole is not a server. */
const MAX_REPLY_BYTES = 64 * 1024;
/** An idle connection closed politely is destroyed after this if the receiver does not close its side. */
const CLOSE_GRACE_MS = 2000;

/** Waiting for HELO or PONG. */
interface HandshakeWaiter {
  take(value: ReplyValue): void;
  fail(err: ForwardSendError): void;
}

/** A frame written (or being written) and not settled yet. */
interface InFlight {
  /** Its chunk ids not acked yet. */
  unacked: number;
  written: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(err: ForwardSendError): void;
}

export class ForwardClientConnection {
  private pending: Buffer = Buffer.alloc(0);
  private handshakeWaiter: HandshakeWaiter | undefined;
  /** Frames not settled, in the order they were sent. */
  private readonly frames = new Set<InFlight>();
  /** Each chunk id in flight and the frame that carries it. */
  private readonly chunks = new Map<string, InFlight>();
  private failure: ForwardSendError | undefined;
  private closed = false;
  /** Date.now() when it was last released: kept connections are closed after keepalive_idle_timeout. */
  idleSince = 0;

  private constructor(
    readonly node: ForwardNode,
    private readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.onClose(new ForwardSendError('closed', `connection error: ${err.message}`)));
    socket.on('close', () => this.onClose(new ForwardSendError('closed', 'the receiver closed the connection')));
    socket.on('end', () => this.onClose(new ForwardSendError('closed', 'the receiver closed the connection')));
  }

  /** Connects (TLS included) and does the handshake, all within `timeoutMs`. */
  static async open(node: ForwardNode, timeoutMs: number): Promise<ForwardClientConnection> {
    let socket: Socket;
    try {
      socket = dial(node);
    } catch (err) {
      throw new ForwardSendError('connect', `cannot connect: ${(err as Error).message}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ForwardSendError('connect', `no connection within net.connect_timeout (${timeoutMs}ms)`)), timeoutMs);
    });
    try {
      await Promise.race([connected(socket, node), timeout]);
      const connection = new ForwardClientConnection(node, socket);
      if (node.security !== undefined) await Promise.race([connection.handshake(), timeout]);
      return connection;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Still usable: open, nothing unexpected received. */
  get alive(): boolean {
    return !this.closed && this.failure === undefined && !this.socket.destroyed;
  }

  /**
   * Writes one frame and resolves once it is written and each chunk id given is acked (in any
   * order). Frames sent before it may still be in flight, and frames may be sent after it before it
   * settles. The ack wait is bounded by `ackTimeoutMs` from this call: past it the connection fails,
   * and with it every frame still in flight on it.
   */
  send(bytes: Buffer, chunks: readonly string[], ackTimeoutMs: number): Promise<void> {
    if (!this.alive) return Promise.reject(this.failure ?? new ForwardSendError('closed', 'the connection is closed'));
    for (const chunk of chunks) {
      // Chunk ids are unique per frame; the same one twice on a connection is a bug of the caller.
      if (this.chunks.has(chunk)) return Promise.reject(new ForwardSendError('protocol', `chunk '${chunk}' is already in flight on this connection`));
    }
    return new Promise<void>((resolve, reject) => {
      const frame: InFlight = { unacked: chunks.length, written: false, timer: undefined, resolve, reject };
      this.frames.add(frame);
      for (const chunk of chunks) this.chunks.set(chunk, frame);
      if (chunks.length > 0) {
        frame.timer = setTimeout(() => {
          this.fail(new ForwardSendError('ack_timeout', `no ack within ack_response_timeout (${ackTimeoutMs}ms)`));
        }, ackTimeoutMs);
      }
      this.socket.write(bytes, (err) => {
        if (err) return this.fail(new ForwardSendError('write', `write failed: ${err.message}`));
        frame.written = true;
        if (frame.unacked === 0) this.settle(frame);
      });
    });
  }

  /** An ack for one of the frame's chunks (already taken out of `chunks`). */
  private acked(frame: InFlight): void {
    frame.unacked--;
    if (frame.unacked === 0 && frame.written) this.settle(frame);
  }

  private settle(frame: InFlight): void {
    if (!this.frames.delete(frame)) return;
    clearTimeout(frame.timer);
    frame.resolve();
  }

  /** Closes at once (a failed attempt, or a stop that cannot wait). */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Closes an idle connection politely: FIN, and TLS close_notify, so the receiver sees an orderly end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private async handshake(): Promise<void> {
    const client = new HandshakeClient(this.node.security!);
    const heloValue = await this.nextReply();
    const helo: Helo | undefined = parseHelo(heloValue);
    if (helo === undefined) throw new ForwardSendError('handshake', `expected HELO, got ${describe(heloValue)}`);
    this.socket.write(client.ping(helo));
    let pong: ReplyValue;
    try {
      pong = await this.nextReply();
    } catch (err) {
      // Fluent Bit's in_forward closes without a PONG when the key does not match.
      if (err instanceof ForwardSendError && err.kind === 'closed') {
        throw new ForwardSendError('refused', 'the receiver closed the connection after our PING, without a PONG: a wrong shared_key, username or password?');
      }
      throw err;
    }
    const check = client.checkPong(pong, helo);
    if (!check.ok) throw new ForwardSendError(check.refused ? 'refused' : 'handshake', `handshake failed: ${check.reason}`);
  }

  private nextReply(): Promise<ReplyValue> {
    return new Promise<ReplyValue>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.handshakeWaiter = {
        take: (value) => {
          this.handshakeWaiter = undefined;
          resolve(value);
        },
        fail: reject,
      };
      this.drainReplies();
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drainReplies();
  }

  private drainReplies(): void {
    while (this.pending.length > 0 && this.failure === undefined) {
      let reply: { value: ReplyValue; end: number } | undefined;
      try {
        reply = readReply(this.pending, 0);
      } catch (err) {
        if (err instanceof ReplyFormatError) return this.fail(new ForwardSendError('protocol', `the receiver sent something that is not a reply: ${err.message}`));
        throw err;
      }
      if (reply === undefined) {
        if (this.pending.length > MAX_REPLY_BYTES) this.fail(new ForwardSendError('protocol', `the receiver sent ${this.pending.length} bytes that are not a whole reply`));
        return;
      }
      // Null is a heartbeat.
      if (reply.value === null) {
        this.pending = this.pending.subarray(reply.end);
        continue;
      }
      const waiter = this.handshakeWaiter;
      // A HELO outside the handshake: the server wants the handshake we were not told to do.
      if (waiter === undefined && parseHelo(reply.value) !== undefined) {
        return this.fail(new ForwardSendError('handshake', 'the receiver asks for the secure forward handshake (it sent HELO): set shared_key'));
      }
      this.pending = this.pending.subarray(reply.end);
      if (waiter !== undefined) {
        waiter.take(reply.value);
        continue;
      }
      if (this.chunks.size === 0) return this.fail(new ForwardSendError('protocol', `unexpected reply ${describe(reply.value)}`));
      const ack = reply.value instanceof Map ? replyText(reply.value.get('ack')) : undefined;
      if (ack === undefined) return this.fail(new ForwardSendError('protocol', `expected an ack, got ${describe(reply.value)}`));
      const frame = this.chunks.get(ack);
      if (frame === undefined) return this.fail(new ForwardSendError('protocol', `ack for chunk '${ack}', which is not in flight on this connection`));
      this.chunks.delete(ack);
      this.acked(frame);
    }
  }

  private onClose(err: ForwardSendError): void {
    if (this.failure === undefined && this.handshakeWaiter === undefined && this.frames.size === 0 && this.closed) return;
    this.closed = true;
    this.fail(err);
  }

  /** The connection is unusable: every frame in flight on it fails with `err`, in the order they were sent. */
  private fail(err: ForwardSendError): void {
    if (this.failure === undefined) this.failure = err;
    const waiter = this.handshakeWaiter;
    this.handshakeWaiter = undefined;
    waiter?.fail(err);
    const frames = [...this.frames];
    this.frames.clear();
    this.chunks.clear();
    for (const frame of frames) {
      clearTimeout(frame.timer);
      frame.reject(this.failure);
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

function dial(node: ForwardNode): Socket {
  if (node.unixPath !== undefined) return netConnect({ path: node.unixPath });
  if (node.tls === undefined) return netConnect({ host: node.host, port: node.port });
  const { tls } = node;
  return tlsConnect({
    host: node.host,
    port: node.port,
    servername: tls.servername ?? (isIp(node.host) ? undefined : node.host),
    rejectUnauthorized: tls.verify,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
  });
}

function connected(socket: Socket, node: ForwardNode): Promise<void> {
  const ready = node.tls !== undefined && node.unixPath === undefined ? 'secureConnect' : 'connect';
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new ForwardSendError('connect', `cannot connect: ${err.message}`));
    socket.once('error', onError);
    socket.once(ready, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function describe(value: ReplyValue): string {
  if (Array.isArray(value)) return `an array starting with ${replyText(value[0]) ?? typeof value[0]}`;
  if (value instanceof Map) return `a map with keys ${[...value.keys()].join(', ') || '(none)'}`;
  return Buffer.isBuffer(value) ? 'a string' : String(value);
}
