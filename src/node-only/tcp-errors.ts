/**
 * What can go wrong on a {@link TcpTransport}'s connections, as a typed error with a stable code.
 * None of these is thrown at the caller of `send`: they are counted in `stats()` and reported
 * through the transport's `onWarning`.
 */
import { RaftError } from '../raft/errors.js';
import type { NodeId } from '../raft/types.js';

/**
 * Why a {@link TcpTransportError} was reported:
 * - `LISTEN_FAILED`: the server could not bind its address (`ready` rejects with it);
 * - `REFUSED`: an inbound connection was refused or closed (its `reason` says why: an unknown
 *   node, another cluster, a bad or late handshake, a frame too large, a frame that did not
 *   decode, a TLS failure);
 * - `PEER_REFUSED`: a peer refused this node's connection (its `reason` is the peer's answer),
 *   or a peer's TLS certificate does not name the peer;
 * - `SEND_FAILED`: a message could not be sent at all (it did not encode, or its frame is
 *   larger than `maxFrameBytes`): a bug or a configuration mismatch, not a network fault;
 * - `HANDLER_FAILED`: the handler given to `listen` threw for a delivered message.
 *
 * @example
 * ```ts
 * import type { TcpTransportErrorCode } from 'raftkit/node';
 * const noisy: TcpTransportErrorCode[] = ['REFUSED', 'PEER_REFUSED'];
 * ```
 */
export type TcpTransportErrorCode = 'LISTEN_FAILED' | 'REFUSED' | 'PEER_REFUSED' | 'SEND_FAILED' | 'HANDLER_FAILED';

/**
 * Why a connection was refused or closed by a {@link TcpTransport} (`stats().refused` counts
 * each, by reason):
 * - `unknown-node`: the handshake names a node that is not among the peers;
 * - `wrong-cluster`: the handshake names another cluster id;
 * - `wrong-node`: the handshake is addressed to another node than this one;
 * - `bad-handshake`: the first frame is not a raftkit handshake;
 * - `handshake-timeout`: no complete handshake arrived in time (a slow or idle client);
 * - `tls`: the TLS handshake failed (no certificate, or one the CA did not sign), or the
 *   certificate does not name the node the handshake claims;
 * - `frame-too-large`: a length prefix above `maxFrameBytes`;
 * - `decode-error`: a frame the codec could not decode;
 * - `misaddressed`: a message whose `from` or `to` is not the connection's two nodes;
 * - `too-many-connections`: more connections than `maxConnections` were open.
 *
 * @example
 * ```ts
 * import type { RefusalReason } from 'raftkit/node';
 * const hostile: RefusalReason[] = ['bad-handshake', 'frame-too-large', 'decode-error'];
 * ```
 */
export type RefusalReason =
  | 'unknown-node'
  | 'wrong-cluster'
  | 'wrong-node'
  | 'bad-handshake'
  | 'handshake-timeout'
  | 'tls'
  | 'frame-too-large'
  | 'decode-error'
  | 'misaddressed'
  | 'too-many-connections';

/**
 * A problem on one of a {@link TcpTransport}'s connections: `code` says what kind, `reason`
 * why a connection was refused, `peer` which node (as claimed, for a refused connection) and
 * `remote` the other end's address.
 *
 * @example
 * ```ts
 * import { TcpTransport, TcpTransportError } from 'raftkit/node';
 * const refusals: string[] = [];
 * const transport = await TcpTransport.open({
 *   id: 'a', peers: {}, listen: '127.0.0.1:0',
 *   onWarning: (warning) => { if (warning instanceof TcpTransportError && warning.code === 'REFUSED') refusals.push(warning.reason ?? ''); },
 * });
 * await transport.close();
 * ```
 */
export class TcpTransportError extends RaftError {
  declare readonly code: TcpTransportErrorCode;
  /** For `REFUSED` and `PEER_REFUSED`: why. */
  declare readonly reason: RefusalReason | undefined;
  /** The peer concerned, when known (for an inbound connection: the id its handshake claimed). */
  declare readonly peer: NodeId | undefined;
  /** The other end's address, `host:port`, when there was a connection. */
  declare readonly remote: string | undefined;
  constructor(
    code: TcpTransportErrorCode,
    message: string,
    details: { reason?: RefusalReason; peer?: NodeId; remote?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TcpTransportError';
    this.reason = details.reason;
    this.peer = details.peer;
    this.remote = details.remote;
  }
}
