/** See http-client.mjs. */
export type Answer = { ok: boolean; status?: number; text?: string; err?: string; t0: number; t1: number };
export function encodeRequest(host: string, port: number | string, method: string, path: string, body: string | null): Buffer;
export class Connection {
  constructor(host: string, port: number | string);
  send(bytes: Buffer, timeoutMs?: number): Promise<Answer>;
  close(): void;
}
