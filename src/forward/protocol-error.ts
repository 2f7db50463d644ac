/**
 * Data a forward client sent that is not the Fluent forward protocol (garbage bytes, a frame of the
 * wrong shape, a frame over `buffer_max_size`). The server closes that connection only.
 */
export class ForwardProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardProtocolError';
  }
}
