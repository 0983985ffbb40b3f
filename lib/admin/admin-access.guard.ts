import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import { AdminHttpError } from './admin-errors.js';
import {
  header,
  isLoopbackClient,
  isMutation,
  requester,
  type AdminRequest,
} from './admin-request.js';
import type { NormalizedJobAdminOptions } from './job-admin-options.interface.js';
import { JOB_ADMIN_OPTIONS } from './job-admin-options.js';

/**
 * The admin module's own checks, before the app's guards:
 * - without `guards` and without `allowRemote`, only loopback clients are served (403);
 * - a mutation is refused (403) in `readOnly` mode, from another site (`Sec-Fetch-Site` cross-site
 *   or same-site, or an `Origin` that is not the request's own host), and (415) when its body is not
 *   `application/json` (which a plain HTML form cannot send).
 * A refused mutation is logged (who, what), as every mutation is.
 */
@Injectable()
export class AdminAccessGuard implements CanActivate {
  constructor(
    @Inject(JOB_ADMIN_OPTIONS) private readonly options: NormalizedJobAdminOptions,
    @Inject(SchedulerService) private readonly scheduler: SchedulerService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const { allowRemote, guards, readOnly } = this.options;
    if (!allowRemote && guards.length === 0 && !isLoopbackClient(request)) {
      throw this.refuse(
        request,
        403,
        'REMOTE_CLIENT',
        'The job dashboard serves only this machine (loopback) unless JobAdminModule has guards or allowRemote: true.',
      );
    }
    if (!isMutation(request)) return true;
    if (readOnly) {
      throw this.refuse(
        request,
        403,
        'READ_ONLY',
        'The job dashboard is read-only (JobAdminModule readOnly: true).',
      );
    }
    const site = header(request, 'sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') {
      throw this.refuse(
        request,
        403,
        'CROSS_SITE',
        `A change from another site is refused (Sec-Fetch-Site: ${site}).`,
      );
    }
    const origin = header(request, 'origin');
    if (origin !== undefined && hostOf(origin) !== header(request, 'host')) {
      throw this.refuse(
        request,
        403,
        'CROSS_SITE',
        'A change from another origin is refused (Origin is not this host).',
      );
    }
    const type = header(request, 'content-type') ?? '';
    if (!/^application\/json\s*(?:;|$)/i.test(type)) {
      throw this.refuse(
        request,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'A change must be sent as Content-Type: application/json.',
      );
    }
    return true;
  }

  private refuse(
    request: AdminRequest,
    status: number,
    code: string,
    message: string,
  ): AdminHttpError {
    if (isMutation(request)) {
      this.scheduler.options.logger.warn(
        `Admin: refused ${request.method} ${request.url} from ${requester(request)}: ${code}`,
      );
    }
    return new AdminHttpError(status, code, message);
  }
}

/** The `host[:port]` of an origin; `null` for `null` or a malformed origin. */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
