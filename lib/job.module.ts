import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Scheduler } from './scheduler.js';
import { InvalidOptionsError } from './errors/invalid-options.error.js';
import type {
  JobModuleAsyncOptions,
  JobModuleExtraOptions,
  JobModuleOptions,
  NormalizedJobModuleOptions,
} from './interfaces/job-module-options.interface.js';
import { normalizeOptions } from './job-module-options.js';
import {
  JOB_MODULE_CONFIGURED,
  JOB_MODULE_OPTIONS,
  NORMALIZED_JOB_MODULE_OPTIONS,
} from './job.constants.js';
import { JobExplorer } from './job.explorer.js';
import { ConfigurableModuleClass } from './job.module-definition.js';
import { SchedulerService } from './scheduler.service.js';
import { JobStorage } from './interfaces/job-storage.js';

/**
 * Persistent job scheduling for a Nest application. Import it once, in the root module, with
 * `JobModule.forRoot(options)` or `JobModule.forRootAsync({ imports, inject, useFactory })`; it is
 * global, and provides `SchedulerService` (also injectable as the core `Scheduler`) and the
 * `JobStorage` in use. `@JobHandler` classes and methods of every module are found at bootstrap.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: NORMALIZED_JOB_MODULE_OPTIONS,
      useFactory: (
        configured: boolean | undefined,
        options: JobModuleOptions | undefined,
      ): NormalizedJobModuleOptions => {
        if (!configured) {
          throw new InvalidOptionsError(
            'options',
            options,
            'JobModule to be imported as JobModule.forRoot(options) or JobModule.forRootAsync({ useFactory, ... }), not as JobModule alone',
          );
        }
        return normalizeOptions(options as JobModuleOptions);
      },
      inject: [
        { token: JOB_MODULE_CONFIGURED, optional: true },
        { token: JOB_MODULE_OPTIONS, optional: true },
      ],
    },
    {
      provide: JobStorage,
      useFactory: (options: NormalizedJobModuleOptions): JobStorage => options.storage,
      inject: [NORMALIZED_JOB_MODULE_OPTIONS],
    },
    SchedulerService,
    { provide: Scheduler, useExisting: SchedulerService },
    JobExplorer,
  ],
  exports: [SchedulerService, Scheduler, JobStorage, NORMALIZED_JOB_MODULE_OPTIONS],
})
export class JobModule extends ConfigurableModuleClass {
  /**
   * Configures the module with options known now. Invalid options throw `InvalidOptionsError` here,
   * naming the option; a left-out `storage` gives each application its own `MemoryStorage`.
   */
  static override forRoot(options: JobModuleOptions & JobModuleExtraOptions = {}): DynamicModule {
    if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
      const { isGlobal: _isGlobal, ...moduleOptions } = options;
      normalizeOptions(moduleOptions);
    } else {
      normalizeOptions(options);
    }
    return withMarker(super.forRoot(options));
  }

  /**
   * Configures the module with options built at bootstrap: by `useFactory` (its arguments from
   * `inject`, their providers from `imports`), or by the `createJobOptions()` of a `useClass` /
   * `useExisting` provider. The result is validated like `forRoot()`'s, so an invalid option
   * fails the bootstrap with an `InvalidOptionsError` naming it.
   */
  static override forRootAsync(options: JobModuleAsyncOptions): DynamicModule {
    const forms = (['useFactory', 'useClass', 'useExisting'] as const).filter(
      (key) => options?.[key] !== undefined,
    );
    if (forms.length !== 1) {
      throw new InvalidOptionsError(
        forms.length === 0 ? 'useFactory' : forms.join(', '),
        forms.length === 0 ? undefined : forms.map((key) => options[key]),
        'exactly one of useFactory, useClass or useExisting in JobModule.forRootAsync()',
      );
    }
    if (options.useFactory !== undefined && typeof options.useFactory !== 'function') {
      throw new InvalidOptionsError(
        'useFactory',
        options.useFactory,
        'a function returning JobModuleOptions',
      );
    }
    return withMarker(super.forRootAsync(options));
  }
}

/** Adds the marker that tells forRoot() / forRootAsync() from a bare `imports: [JobModule]`. */
function withMarker(definition: DynamicModule): DynamicModule {
  return {
    ...definition,
    providers: [
      ...(definition.providers ?? []),
      { provide: JOB_MODULE_CONFIGURED, useValue: true },
    ],
  };
}
