/**
 * Addresses of TCP endpoints, given as `'host:port'` (`'[::1]:7001'` for IPv6) or as
 * `{ host, port }`.
 */

/**
 * A TCP endpoint: a host name or IP address and a port.
 *
 * @example
 * ```ts
 * import type { TcpAddress } from 'raftkit/node';
 * const address: TcpAddress = { host: '10.0.0.2', port: 7001 };
 * ```
 */
export interface TcpAddress {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** Port, 0–65535 (0, for a listening address only: any free port). */
  readonly port: number;
}

/**
 * An address as options accept it: `'host:port'` (IPv6 in brackets: `'[::1]:7001'`) or a
 * {@link TcpAddress}.
 *
 * @example
 * ```ts
 * import type { PeerAddress } from 'raftkit/node';
 * const peers: Record<string, PeerAddress> = { a: '10.0.0.1:7001', b: { host: 'db-2.internal', port: 7001 } };
 * ```
 */
export type PeerAddress = string | TcpAddress;

/** `address` as a {@link TcpAddress}; throws a TypeError naming `what` when it is not one. */
export function parseAddress(address: PeerAddress, what: string): TcpAddress {
  let host: unknown;
  let port: unknown;
  if (typeof address === 'string') {
    const colon = address.lastIndexOf(':');
    host = address.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, '$1');
    port = colon < 0 || !/^\d{1,5}$/.test(address.slice(colon + 1)) ? NaN : Number(address.slice(colon + 1));
  } else if (typeof address === 'object' && address !== null) {
    ({ host, port } = address);
  }
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`${what}: expected 'host:port' or { host, port }, got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress({ host, port }: TcpAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
