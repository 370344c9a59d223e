import type { ServerResponse } from 'node:http';

/** A node response's status and headers, to put back for a retry or an error answer. */
export interface ResponseSnapshot {
  readonly status: number;
  readonly headers: ReturnType<ServerResponse['getHeaders']>;
}

/** The status and headers a response has now. */
export function snapshotResponse(res: ServerResponse): ResponseSnapshot {
  return { status: res.statusCode, headers: res.getHeaders() };
}

/** Puts back the status and headers of a snapshot, dropping whatever a handler set since. */
export function restoreResponse(res: ServerResponse, snap: ResponseSnapshot): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  for (const [name, value] of Object.entries(snap.headers)) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.statusCode = snap.status;
}
