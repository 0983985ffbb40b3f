/**
 * What the admin module reads of a request: fields that Express and Fastify requests both have
 * (tested on Express, `@nestjs/platform-express`; Fastify is not tested).
 */
export interface AdminRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: {
    remoteAddress?: string;
    end(): void;
    once(event: 'close', listener: () => void): unknown;
  };
  /** Set by the app's auth (e.g. Passport), when it has one. */
  user?: unknown;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request changes something (any method but GET, HEAD and OPTIONS). */
export function isMutation(request: AdminRequest): boolean {
  return !SAFE_METHODS.has(request.method.toUpperCase());
}

/** A header's value (the first, when repeated). */
export function header(request: AdminRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the request comes from this machine: a loopback peer, and no proxy header saying it
 * forwarded the request for someone else (a proxy on the same host makes every client look local).
 */
export function isLoopbackClient(request: AdminRequest): boolean {
  if (
    header(request, 'x-forwarded-for') !== undefined ||
    header(request, 'forwarded') !== undefined
  ) {
    return false;
  }
  const address = request.socket?.remoteAddress ?? '';
  return address === '::1' || /^(?:::ffff:)?127\.\d+\.\d+\.\d+$/.test(address);
}

/** Who made the request, for the log: the app's user (an id, a name or an email) or the peer address. */
export function requester(request: AdminRequest): string {
  const user = request.user as
    { id?: unknown; username?: unknown; email?: unknown; sub?: unknown } | undefined;
  const name = user?.username ?? user?.email ?? user?.id ?? user?.sub;
  const address = request.socket?.remoteAddress ?? 'unknown address';
  return name === undefined ? address : `${String(name)} (${address})`;
}

/** The request's path (no query), as the client sent it (a global prefix included). */
export function requestPath(request: AdminRequest): string {
  const url = request.originalUrl ?? request.url;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
