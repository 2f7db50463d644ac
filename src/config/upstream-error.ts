/**
 * A mistake in one node of an upstream (an `[UPSTREAM]` file's `[NODE]`, an `upstream_servers` node),
 * found by the output that reads the nodes. It names the node by its place in the list and the key at
 * fault, so the config loader can report it at that node's file and line rather than the output's.
 */
export class UpstreamNodeError extends Error {
  constructor(
    message: string,
    /** The node's index in the upstream's list. */
    readonly node: number,
    /** The key at fault, lower-case; undefined when it is the node as a whole (a key missing). */
    readonly key?: string,
  ) {
    super(message);
    this.name = 'UpstreamNodeError';
  }
}
