import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, isIPv6, Socket, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Input, InputContext } from '../../core/plugin.js';
import { TranscodePool } from '../../msgpack/transcode-pool.js';
import { ForwardConnection, type ForwardConnectionHost } from './connection.js';
import type { ForwardFrameDecoderOptions } from './decoder.js';
import { forwardMetrics, type EvictionReason, type ForwardMetrics } from './metrics.js';
import type { ForwardSecurityOptions } from './handshake.js';
import type { ForwardServerOptions, ForwardTlsOptions } from './options.js';

/** The UDP heartbeat answer (forward protocol v1; Fluentd replies "\0"). */
const HEARTBEAT_REPLY = Buffer.from([0x00]);

/**
 * The forward input: a TCP (or TLS, or unix socket) server speaking the Fluent forward protocol
 * (Message, Forward, PackedForward, CompressedPackedForward, msgpack or JSON), with the secure
 * forward handshake when a shared key is set, acking chunks once the pipeline queued their events,
 * and a UDP socket on the same port answering heartbeats.
 *
 * Backpressure pauses reading on every connection but keeps them open and keeps accepting (new
 * sockets start paused). Fluent Bit closes all connections on pause instead; keeping them spares
 * clients a reconnect and resend, and TCP flow control holds them back meanwhile.
 *
 * No client can lock others out: at net.max_connections a new connection closes the longest idle one
 * (not the newcomer), a frame must arrive within net.frame_timeout, and the bytes held in unfinished
 * frames over all connections stay under buffer_total_limit_size (the oldest unfinished frame's
 * connection is closed past it).
 */
export class ForwardServer implements Input, ForwardConnectionHost {
  readonly metrics: ForwardMetrics;
  readonly decoderOptions: ForwardFrameDecoderOptions;
  readonly security: ForwardSecurityOptions | undefined;
  readonly transcoder: TranscodePool | undefined;
  private server: Server | undefined;
  private udp: UdpSocket | undefined;
  private readonly connections = new Set<ForwardConnection>();
  /** TLS: raw sockets still in the TLS handshake, with their arrival time; they count toward net.max_connections. */
  private readonly handshaking = new Map<Socket, number>();
  /** TLS: raw sockets floki closed itself (evicted or refused), whose handshake error is not an auth failure. */
  private readonly closedByUs = new WeakSet<Socket>();
  /** Bytes every connection's decoder holds (buffer_total_limit_size). */
  private heldTotal = 0;
  private enforcingBudget = false;
  /** Connections are being closed over buffer_total_limit_size (logged once per episode). */
  private overBudget = false;
  private timer: NodeJS.Timeout | undefined;
  private pausedFlag = false;
  private stopped = false;
  /** Connections are being refused at net.max_connections (logged once per episode). */
  private atLimit = false;

  constructor(
    readonly options: ForwardServerOptions,
    readonly ctx: InputContext,
  ) {
    this.metrics = forwardMetrics(ctx.metrics, ctx.name);
    this.security = options.security;
    this.decoderOptions = {
      bufferMaxSize: options.bufferMaxSize,
      bufferChunkSize: options.bufferChunkSize,
      tag: options.tag,
      tagPrefix: options.tagPrefix,
    };
    this.transcoder = options.threaded
      ? new TranscodePool({
          onFailure: (err) =>
            ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'forward: the transcode thread failed; printing records on the main thread from now on'),
        })
      : undefined;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  async start(): Promise<void> {
    this.pausedFlag = this.ctx.paused;
    const { options } = this;
    const where = options.unixPath !== undefined ? `unix:${options.unixPath}` : `${options.listen}:${options.port}`;
    const server = this.createServer();
    this.server = server;
    if (options.unixPath !== undefined) this.removeStaleSocket(options.unixPath);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => reject(new Error(`forward input ${this.ctx.name}: cannot listen on ${where}: ${err.message}`));
      server.once('error', failed);
      const listening = (): void => {
        server.off('error', failed);
        server.on('error', (err) => this.ctx.log.error({ err: err.message }, 'forward input server error'));
        resolve();
      };
      if (options.unixPath !== undefined) server.listen({ path: options.unixPath }, listening);
      else server.listen({ host: options.listen, port: options.port }, listening);
    });
    if (options.unixPath !== undefined && options.unixPerm !== undefined) {
      try {
        chmodSync(options.unixPath, options.unixPerm);
      } catch (err) {
        await this.stop();
        throw new Error(`forward input ${this.ctx.name}: cannot set unix_perm on ${options.unixPath}: ${(err as Error).message}`);
      }
    }
    const bound = this.address();
    if (bound) await this.startHeartbeat(bound.port);
    this.startTimer();
    this.ctx.log.info(
      {
        listen: options.unixPath ?? bound?.address ?? options.listen,
        port: bound?.port,
        tls: options.tls !== undefined,
        handshake: this.security !== undefined,
        users: this.security?.users.size || undefined,
      },
      'forward input listening',
    );
  }

  /** The bound TCP address (the real port when configured with port 0); null for a unix socket or before start. */
  address(): AddressInfo | null {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Bytes held in unfinished frames over all connections (what buffer_total_limit_size bounds). */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** The UDP heartbeat socket's port, when it is bound. */
  heartbeatPort(): number | undefined {
    return this.udp?.address().port;
  }

  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    for (const connection of this.connections) connection.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    for (const connection of this.connections) connection.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.udp?.close();
    this.udp = undefined;
    const server = this.server;
    const closed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const connection of this.connections) connection.destroy();
    for (const raw of this.handshaking.keys()) raw.destroy();
    await closed;
    await this.transcoder?.close();
  }

  closed(connection: ForwardConnection): void {
    if (!this.forget(connection)) return;
    if (this.atLimit && this.open() < this.options.maxConnections) this.atLimit = false;
  }

  private forget(connection: ForwardConnection): boolean {
    if (!this.connections.delete(connection)) return false;
    this.metrics.connectionsActive.dec();
    return true;
  }

  holding(_connection: ForwardConnection, delta: number): void {
    this.heldTotal += delta;
    this.metrics.frameBufferBytes.set(this.heldTotal);
    if (this.heldTotal > this.options.bufferTotalLimit) this.enforceBudget();
    else if (this.overBudget && this.heldTotal <= this.options.bufferTotalLimit / 2) this.overBudget = false;
  }

  /** Closes connections holding unfinished frames, the oldest frame first, until the bytes held are within the budget. */
  private enforceBudget(): void {
    if (this.enforcingBudget) return; // an eviction below reports its release
    this.enforcingBudget = true;
    try {
      while (this.heldTotal > this.options.bufferTotalLimit) {
        let victim: ForwardConnection | undefined;
        let since = Infinity;
        for (const c of this.connections) {
          if (c.held === 0) continue;
          // A buffer holding only whole frames read ahead has no start time: it goes after every unfinished frame.
          const started = c.frameSince > 0 ? c.frameSince : Number.MAX_SAFE_INTEGER;
          if (started < since || (started === since && victim !== undefined && c.held > victim.held)) {
            victim = c;
            since = started;
          }
        }
        if (victim === undefined) return;
        this.evict(victim, 'buffer_total_limit_size');
      }
    } finally {
      this.enforcingBudget = false;
    }
  }

  /** Connections counted against net.max_connections: those open and those in the TLS handshake. */
  private open(): number {
    return this.connections.size + this.handshaking.size;
  }

  /**
   * At net.max_connections, makes room for a new connection by closing the longest idle one: first
   * those that never sent a whole frame (oldest first), then the one whose last frame is oldest. One
   * busy with a chunk is kept (its ack is due). False when none could be closed.
   */
  private makeRoom(): boolean {
    let idlestRaw: Socket | undefined;
    let idlest: ForwardConnection | undefined;
    let neverSent = false;
    let since = Infinity;
    for (const [raw, arrived] of this.handshaking) {
      if (arrived < since) {
        idlestRaw = raw;
        since = arrived;
        neverSent = true;
      }
    }
    for (const c of this.connections) {
      if (c.busy()) continue;
      const never = c.lastFrameAt === 0;
      const at = never ? c.openedAt : c.lastFrameAt;
      if ((never && !neverSent) || (never === neverSent && at < since)) {
        idlest = c;
        idlestRaw = undefined;
        since = at;
        neverSent = never;
      }
    }
    if (idlestRaw !== undefined) {
      this.handshaking.delete(idlestRaw);
      this.closedByUs.add(idlestRaw);
      idlestRaw.destroy();
      this.evicted('max_connections', 'the new connection is kept');
      return true;
    }
    if (idlest === undefined) return false;
    this.evict(idlest, 'max_connections');
    return true;
  }

  private evict(connection: ForwardConnection, reason: EvictionReason): void {
    this.forget(connection);
    connection.evict();
    this.evicted(reason, reason === 'max_connections' ? 'the new connection is kept' : 'its partial frame is dropped, never acked');
  }

  private evicted(reason: EvictionReason, what: string): void {
    this.metrics.connectionsEvicted[reason].inc();
    if (reason === 'max_connections') {
      if (this.atLimit) return;
      this.atLimit = true;
      this.ctx.log.warn(
        { max_connections: this.options.maxConnections },
        `forward: net.max_connections reached, closing the longest idle connection for each new one; ${what} (logged once until the count drops)`,
      );
    } else {
      if (this.overBudget) return;
      this.overBudget = true;
      this.ctx.log.warn(
        { buffer_total_limit_size: this.options.bufferTotalLimit, held_bytes: this.heldTotal },
        `forward: unfinished frames hold more than buffer_total_limit_size, closing the connection with the oldest one; ${what} (logged once until half of it is free)`,
      );
    }
  }

  private createServer(): Server {
    const tls = this.options.tls;
    // Half-open: a client may send its last chunk and shut down its side; it still gets the ack.
    if (!tls) return createServer({ allowHalfOpen: true }, (socket) => this.accept(socket, true));
    const server = createTlsServer({ ...this.tlsOptions(tls), allowHalfOpen: true, handshakeTimeout: this.options.acceptTimeoutMs });
    // A raw socket counts from its arrival: a flood of TLS handshakes must not lock clients out either.
    server.on('connection', (raw: Socket) => this.arrivedTls(raw));
    server.on('secureConnection', (socket: TLSSocket) => {
      const raw = rawSocketOf(socket);
      if (raw !== undefined) this.handshaking.delete(raw);
      this.accept(socket, false);
    });
    server.on('tlsClientError', (err, socket) => {
      const raw = rawSocketOf(socket);
      if (raw !== undefined && this.closedByUs.has(raw)) return;
      this.metrics.authFailures.inc();
      this.ctx.log.warn({ remote: `${socket.remoteAddress ?? 'unix socket'}:${socket.remotePort ?? ''}`, err: err.message }, 'forward: TLS handshake failed');
    });
    return server;
  }

  private tlsOptions(tls: ForwardTlsOptions): TlsOptions {
    const read = (key: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(`forward input ${this.ctx.name}: cannot read ${key} ${path}: ${(err as Error).message}`);
      }
    };
    return {
      cert: read('tls.crt_file', tls.crtFile),
      key: read('tls.key_file', tls.keyFile),
      passphrase: tls.keyPasswd,
      ca: tls.caFile !== undefined ? read('tls.ca_file', tls.caFile) : undefined,
      requestCert: tls.verify,
      rejectUnauthorized: tls.verify,
    };
  }

  /** Fluent Bit replaces a socket file left by a previous run, and refuses to remove anything else. */
  private removeStaleSocket(path: string): void {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      return;
    }
    if (!isSocket) throw new Error(`forward input ${this.ctx.name}: unix_path ${path} exists and is not a socket`);
    unlinkSync(path);
  }

  private async startHeartbeat(port: number): Promise<void> {
    const udp = createSocket({ type: isIPv6(this.options.listen) ? 'udp6' : 'udp4' });
    udp.on('message', (_msg, peer) => udp.send(HEARTBEAT_REPLY, peer.port, peer.address));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ port, address: this.options.listen }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.ctx.log.warn({ port, err: (err as Error).message }, 'forward: cannot bind the UDP heartbeat port; TCP is not affected');
      return;
    }
    udp.on('error', (err) => this.ctx.log.debug({ err: err.message }, 'forward: UDP heartbeat error'));
    this.udp = udp;
  }

  /** One timer for every connection's net.io_timeout, net.frame_timeout and handshake deadline. */
  private startTimer(): void {
    const { ioTimeoutMs, acceptTimeoutMs, frameTimeoutMs } = this.options;
    const timeouts = [ioTimeoutMs, frameTimeoutMs, this.security !== undefined ? acceptTimeoutMs : 0].filter((ms) => ms > 0);
    if (timeouts.length === 0) return;
    const every = Math.min(1000, Math.max(20, Math.floor(Math.min(...timeouts) / 4)));
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const connection of this.connections) connection.checkTimeouts(now, ioTimeoutMs, acceptTimeoutMs, frameTimeoutMs);
    }, every);
    this.timer.unref();
  }

  /** False (and the socket closed) when it cannot get a slot under net.max_connections. */
  private admit(socket: Socket): boolean {
    const max = this.options.maxConnections;
    if (!this.stopped && (max === 0 || this.open() < max || this.makeRoom())) return true;
    if (!this.stopped) this.refused(socket.remoteAddress);
    socket.destroy();
    return false;
  }

  private arrivedTls(raw: Socket): void {
    if (!this.admit(raw)) {
      this.closedByUs.add(raw);
      return;
    }
    this.handshaking.set(raw, Date.now());
    raw.once('close', () => this.handshaking.delete(raw));
  }

  /** `admit`: a plain socket takes its slot here; a TLS one took it on arrival. */
  private accept(socket: Socket, admit: boolean): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (admit && !this.admit(socket)) return;
    this.metrics.connections.inc();
    this.metrics.connectionsActive.inc();
    this.connections.add(new ForwardConnection(socket, this));
  }

  private refused(remote: string | undefined): void {
    this.metrics.connectionsRejected.inc();
    if (this.atLimit) return;
    this.atLimit = true;
    this.ctx.log.warn(
      { remote, max_connections: this.options.maxConnections },
      'forward: net.max_connections reached and every connection is busy with a chunk: closing new connections (logged once until the count drops)',
    );
  }
}

/**
 * The TCP socket under a TLS server's socket. Node keeps it as `_parent` (not a documented property):
 * without it, a socket's handshake slot is only freed when it closes.
 */
function rawSocketOf(socket: TLSSocket): Socket | undefined {
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  return parent instanceof Socket ? parent : undefined;
}
