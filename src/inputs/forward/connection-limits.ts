import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ForwardConnection } from './connection.js';
import type { EvictionReason, ForwardMetrics } from './metrics.js';

export interface ConnectionLimitOptions {
  /** 0: no limit. */
  maxConnections: number;
  bufferTotalLimit: number;
}

/**
 * The forward input's open connections, and what keeps any client from locking the others out:
 *
 * - at net.max_connections a new connection closes the longest idle one (first those that never sent
 *   a whole frame, then the one whose last frame is oldest; never one whose chunk is in the pipeline,
 *   its ack is due) instead of being refused; TLS sockets count from their arrival, handshake included;
 * - the bytes held by every connection's decoder stay under buffer_total_limit_size: past it, the
 *   connection holding the oldest unfinished frame is closed, until they are under it again.
 *
 * Each is counted by reason and logged once per episode. An evicted connection loses nothing acked.
 */
export class ConnectionLimits {
  readonly connections = new Set<ForwardConnection>();
  /** TLS: raw sockets still in the TLS handshake, with their arrival time. */
  private readonly handshaking = new Map<Socket, number>();
  /** TLS: raw sockets closed here (evicted or refused), whose handshake error is not an auth failure. */
  private readonly closedHere = new WeakSet<Socket>();
  private heldTotal = 0;
  private enforcingBudget = false;
  /** Logged once per episode: at net.max_connections, and over buffer_total_limit_size. */
  private atLimit = false;
  private overBudget = false;

  constructor(
    private readonly options: ConnectionLimitOptions,
    private readonly metrics: ForwardMetrics,
    private readonly log: Logger,
  ) {}

  /** Bytes held in unfinished frames over all connections. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** A new socket takes a slot, making room if needed; false (and the socket closed) when none is free. */
  admit(socket: Socket): boolean {
    const max = this.options.maxConnections;
    if (max === 0 || this.open() < max || this.makeRoom()) return true;
    this.refused(socket.remoteAddress);
    this.closedHere.add(socket);
    socket.destroy();
    return false;
  }

  /** TLS: a raw socket arrived; it holds its slot through the handshake. */
  arrivedTls(raw: Socket): void {
    if (!this.admit(raw)) return;
    this.handshaking.set(raw, Date.now());
    raw.once('close', () => this.handshaking.delete(raw));
  }

  /** TLS: the handshake of `raw` (when known) is done; its connection is about to be added. */
  secured(raw: Socket | undefined): void {
    if (raw !== undefined) this.handshaking.delete(raw);
  }

  /** TLS: the handshake of `raw` failed and its socket is being closed: it holds no slot from now on. */
  handshakeFailed(raw: Socket | undefined): void {
    if (raw !== undefined) this.handshaking.delete(raw);
  }

  /** Whether this raw socket was closed here (its failed handshake is not the client's doing). */
  closedByUs(raw: Socket | undefined): boolean {
    return raw !== undefined && this.closedHere.has(raw);
  }

  add(connection: ForwardConnection): void {
    this.connections.add(connection);
    this.metrics.connectionsActive.inc();
  }

  /** A connection closed on its own. */
  closed(connection: ForwardConnection): void {
    if (!this.forget(connection)) return;
    if (this.atLimit && this.open() < this.options.maxConnections) this.atLimit = false;
  }

  /** The bytes a connection's decoder holds changed by `delta`. */
  holding(delta: number): void {
    this.heldTotal += delta;
    this.metrics.frameBufferBytes.set(this.heldTotal);
    if (this.heldTotal > this.options.bufferTotalLimit) this.enforceBudget();
    else if (this.overBudget && this.heldTotal <= this.options.bufferTotalLimit / 2) this.overBudget = false;
  }

  destroyAll(): void {
    for (const connection of this.connections) connection.destroy();
    for (const raw of this.handshaking.keys()) raw.destroy();
  }

  private forget(connection: ForwardConnection): boolean {
    if (!this.connections.delete(connection)) return false;
    this.metrics.connectionsActive.dec();
    return true;
  }

  /** Connections counted against net.max_connections: those open and those in the TLS handshake. */
  private open(): number {
    return this.connections.size + this.handshaking.size;
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

  /** At net.max_connections: closes the longest idle connection (see the class comment). False when all are busy. */
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
      this.closedHere.add(idlestRaw);
      idlestRaw.destroy();
      this.evicted('max_connections');
      return true;
    }
    if (idlest === undefined) return false;
    this.evict(idlest, 'max_connections');
    return true;
  }

  private evict(connection: ForwardConnection, reason: EvictionReason): void {
    this.forget(connection);
    connection.evict();
    this.evicted(reason);
  }

  private evicted(reason: EvictionReason): void {
    this.metrics.connectionsEvicted[reason].inc();
    if (reason === 'max_connections') {
      if (this.atLimit) return;
      this.atLimit = true;
      this.log.warn(
        { max_connections: this.options.maxConnections },
        'forward: net.max_connections reached, closing the longest idle connection for each new one; the new connection is kept (logged once until the count drops)',
      );
    } else {
      if (this.overBudget) return;
      this.overBudget = true;
      this.log.warn(
        { buffer_total_limit_size: this.options.bufferTotalLimit, held_bytes: this.heldTotal },
        'forward: unfinished frames hold more than buffer_total_limit_size, closing the connection with the oldest one; its partial frame is dropped, never acked (logged once until half of it is free)',
      );
    }
  }

  private refused(remote: string | undefined): void {
    this.metrics.connectionsRejected.inc();
    if (this.atLimit) return;
    this.atLimit = true;
    this.log.warn(
      { remote, max_connections: this.options.maxConnections },
      'forward: net.max_connections reached and every connection is busy with a chunk: closing new connections (logged once until the count drops)',
    );
  }
}
