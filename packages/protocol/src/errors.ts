/** A guest/host struct or value that breaks the contract in docs/protocol.md. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    /** The camelCase field of docs/protocol.md at fault (or `size` for a short buffer). */
    readonly field: string,
    /** What is wrong with it, with the offending value. */
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
