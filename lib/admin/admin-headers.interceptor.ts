import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';

/**
 * The headers of every response of the admin module: the page may load only its own files (no
 * inline script, no inline handler, no other origin), is never framed, and leaks no referrer.
 */
export const ADMIN_SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  [
    'Content-Security-Policy',
    "default-src 'self'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
  ],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
];

@Injectable()
export class AdminHeadersInterceptor implements NestInterceptor {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of ADMIN_SECURITY_HEADERS) adapter.setHeader(response, name, value);
    return next.handle();
  }
}
