/**
 * The receivers of a forward output and their connections: round robin over the nodes that are up,
 * as Fluent Bit's upstream HA picks nodes (src/flb_upstream_ha.c). Unlike Fluent Bit, which keeps
 * handing frames to a dead node in its turn, a node whose attempt failed (connect, handshake, write,
 * ack) is left out for a while (`downMinMs`, doubling up to `downMaxMs`, with jitter), then tried again
 * by the next frame; it is back in as soon as an attempt on it succeeds. While every node is out the
 * sender waits for the first one due back (`nextBackAt`), and that one is tried.
 *
 * Connections are kept per node (`net.keepalive`) and reused: the sender holds one while it has frames
 * in flight on it (several at once) and hands it back once they are all settled; one unused for
 * `net.keepalive_idle_timeout` is closed.
 */
import { RetryPolicy } from '../common/retry-policy.js';
import { ForwardClientConnection } from './client-connection.js';
import type { ForwardNode } from './upstream-nodes.js';

export interface UpstreamOptions {
  /** How long a node that just failed is left out; doubles while it keeps failing, up to downMaxMs. */
  downMinMs: number;
  downMaxMs: number;
  connectTimeoutMs: number;
  keepalive: boolean;
  keepaliveIdleMs: number;
  random?: () => number;
  /** A node went out (false) or came back (true). */
  onNodeState?(node: ForwardNode, up: boolean): void;
}

export class NodeState {
  /** Date.now() until which the node is left out; 0 when it is up. */
  downUntil = 0;
  failures = 0;
  readonly idle: ForwardClientConnection[] = [];
  /** Connections handed out and not yet released. */
  busy = 0;

  constructor(readonly node: ForwardNode) {}

  get up(): boolean {
    return this.downUntil === 0;
  }
}

export class Upstream {
  readonly states: NodeState[];
  private next = 0;
  private readonly backoff: RetryPolicy;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    nodes: readonly ForwardNode[],
    private readonly options: UpstreamOptions,
  ) {
    if (nodes.length === 0) throw new Error('an upstream needs at least one node');
    this.states = nodes.map((n) => new NodeState(n));
    this.backoff = new RetryPolicy({ limit: Infinity, minMs: options.downMinMs, maxMs: options.downMaxMs, random: options.random });
    if (options.keepalive) {
      this.idleTimer = setInterval(() => this.closeIdle(Date.now()), Math.max(50, Math.min(1000, Math.floor(options.keepaliveIdleMs / 2))));
      this.idleTimer.unref();
    }
  }

  /** The next node in turn among those that are up (or due back); when all are out, the one due back first. */
  pick(now: number = Date.now()): NodeState {
    const { state, at } = this.choose(now);
    if (at >= 0) this.next = (at + 1) % this.states.length;
    return state;
  }

  /** The node pick() would return, without taking the turn. */
  peek(now: number = Date.now()): NodeState {
    return this.choose(now).state;
  }

  private choose(now: number): { state: NodeState; at: number } {
    const n = this.states.length;
    for (let i = 0; i < n; i++) {
      const at = (this.next + i) % n;
      const state = this.states[at]!;
      if (state.downUntil <= now) return { state, at };
    }
    let first = this.states[0]!;
    for (const s of this.states) if (s.downUntil < first.downUntil) first = s;
    return { state: first, at: -1 };
  }

  /** Whether a node other than `except` is up or due back now. */
  hasAvailable(except: NodeState | undefined, now: number = Date.now()): boolean {
    return this.states.some((s) => s !== except && s.downUntil <= now);
  }

  /** Date.now() at which the first node that is out comes back (Infinity when none is out). */
  nextBackAt(): number {
    let at = Infinity;
    for (const s of this.states) if (s.downUntil > 0 && s.downUntil < at) at = s.downUntil;
    return at;
  }

  /** An idle kept connection to the node, or a new one (connected and through the handshake). */
  async acquire(state: NodeState): Promise<ForwardClientConnection> {
    while (state.idle.length > 0) {
      const kept = state.idle.pop()!;
      if (kept.alive) {
        state.busy++;
        return kept;
      }
      kept.destroy();
    }
    state.busy++;
    try {
      return await ForwardClientConnection.open(state.node, this.options.connectTimeoutMs);
    } catch (err) {
      state.busy--;
      throw err;
    }
  }

  /** A connection whose frames are all settled: kept for the next ones, or closed. */
  release(state: NodeState, connection: ForwardClientConnection, reusable: boolean): void {
    state.busy--;
    if (reusable && this.options.keepalive && !this.closed && connection.alive) {
      connection.idleSince = Date.now();
      state.idle.push(connection);
    } else if (reusable) connection.close();
    else connection.destroy();
  }

  succeeded(state: NodeState): void {
    const wasDown = state.failures > 0;
    state.failures = 0;
    state.downUntil = 0;
    if (wasDown) this.options.onNodeState?.(state.node, true);
  }

  /** An attempt on the node failed: leave it out for a while, and drop its kept connections. */
  failed(state: NodeState, now: number = Date.now()): number {
    const wasUp = state.failures === 0;
    state.downUntil = now + this.backoff.delayMs(state.failures);
    state.failures++;
    for (const c of state.idle.splice(0)) c.destroy();
    if (wasUp) this.options.onNodeState?.(state.node, false);
    return state.downUntil - now;
  }

  close(): void {
    this.closed = true;
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    for (const s of this.states) for (const c of s.idle.splice(0)) c.close();
  }

  private closeIdle(now: number): void {
    for (const s of this.states) {
      for (let i = s.idle.length - 1; i >= 0; i--) {
        const c = s.idle[i]!;
        if (!c.alive || now - c.idleSince >= this.options.keepaliveIdleMs) {
          s.idle.splice(i, 1);
          c.close();
        }
      }
    }
  }
}
