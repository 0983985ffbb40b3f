import {
  Controller,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type DynamicModule,
  type Type,
} from '@nestjs/common';
import { AdminAccessGuard } from './admin-access.guard.js';
import { AdminApiController } from './admin-api.controller.js';
import { AdminErrorFilter } from './admin-error.filter.js';
import { AdminHeadersInterceptor } from './admin-headers.interceptor.js';
import { AdminUiController } from './admin-ui.controller.js';
import type {
  JobAdminModuleOptions,
  NormalizedJobAdminOptions,
} from './job-admin-options.interface.js';
import { JOB_ADMIN_OPTIONS, normalizeAdminOptions } from './job-admin-options.js';
import { UiFiles } from './ui-files.js';

/**
 * The admin API and dashboard, mounted in the app:
 * `JobAdminModule.register({ path = 'jobs', readOnly = false, guards?, allowRemote = false })`
 * serves the dashboard at `/<path>/` and a JSON API under `/<path>/api`, through real Nest
 * controllers, so the app's global guards, interceptors and pipes apply, plus the `guards` given.
 * Without `guards` and without `allowRemote`, only loopback clients are served. Needs `JobModule`
 * (it uses its `SchedulerService`) and an HTTP app (tested on `@nestjs/platform-express`).
 */
@Module({})
export class JobAdminModule {
  static register(options: JobAdminModuleOptions = {}): DynamicModule {
    const checked = normalizeAdminOptions(options);
    return {
      module: JobAdminModule,
      controllers: [mounted(AdminApiController, checked), mounted(AdminUiController, checked)],
      providers: [
        { provide: JOB_ADMIN_OPTIONS, useValue: checked },
        { provide: UiFiles, useFactory: () => new UiFiles() },
        AdminAccessGuard,
        AdminErrorFilter,
        AdminHeadersInterceptor,
      ],
    };
  }
}

/**
 * A controller class serving `base`'s routes under the module's path, behind the module's checks
 * and the app's guards (a subclass per registration, since a route's path is class metadata).
 */
function mounted<T>(base: Type<T>, options: NormalizedJobAdminOptions): Type<T> {
  const controller = class extends (base as Type<object>) {};
  Object.defineProperty(controller, 'name', {
    value: `${base.name}At_${options.path.replace(/\W/g, '_')}`,
  });
  Controller(options.path)(controller);
  UseGuards(AdminAccessGuard, ...options.guards)(controller);
  UseInterceptors(AdminHeadersInterceptor)(controller);
  UseFilters(AdminErrorFilter)(controller);
  return controller as unknown as Type<T>;
}
