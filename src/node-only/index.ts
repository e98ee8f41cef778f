/**
 * `raftkit/node`: what runs only on Node.js. {@link FileStorage}, a durable `Storage`
 * in a directory (a write-ahead log with snapshots and crash recovery), and the
 * {@link FileSystem} it works through; {@link TcpTransport}, a `Transport` over TCP with
 * optional mutual TLS, for nodes in separate processes or on separate machines.
 *
 * @packageDocumentation
 * @module raftkit/node
 */

export { FileStorage, jsonCodec } from './file-storage.js';
export type { FileStorageOptions, FileStorageStats, RecoveryReport, StorageWarning, Codec } from './file-storage.js';
export { StorageError, StorageCorruptionError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { nodeFileSystem } from './file-system.js';
export type { FileSystem, FileHandle } from './file-system.js';
export { TcpTransport } from './tcp-transport.js';
export type { TcpTransportOptions, TcpTlsOptions } from './tcp-transport.js';
export type { TcpTransportStats, SendDropReason } from './tcp-stats.js';
export { TcpTransportError } from './tcp-errors.js';
export type { TcpTransportErrorCode, RefusalReason } from './tcp-errors.js';
export type { TcpAddress, PeerAddress } from './address.js';
export { KeyValueServer } from './kv-server.js';
export type { KeyValueServerOptions } from './kv-server.js';
export { formatMetrics, Histogram } from './metrics.js';
export type { Metric, MetricSample, ValueMetric, HistogramMetric } from './metrics.js';
