import type { FactoryProvider, ModuleMetadata, Type } from '@nestjs/common';
import type { JobStorage } from './job-storage.js';
import type {
  NormalizedSchedulerOptions,
  SchedulerOptions,
} from './scheduler-options.interface.js';

/** Options of `JobModule.forRoot()`: the scheduler's options plus where jobs are stored. */
export interface JobModuleOptions extends SchedulerOptions {
  /**
   * Where jobs and their run history live: any `JobStorage` (e.g. `new TypeOrmStorage(dataSource)`).
   * Left out, a fresh `MemoryStorage` is used for each application.
   */
  storage?: JobStorage;
  /**
   * At bootstrap, remove a stored declared job (id `handler:<name>`) whose `@JobHandler` declaration
   * (with `cron` or `interval`) is gone from the code, with its run history. Default false: such a
   * job stays, and waits for its handler (counted in `metrics().jobsWithoutHandler`).
   */
  removeUndeclaredJobs?: boolean;
}

/** `JobModuleOptions` validated, with every default filled (durations in milliseconds). */
export interface NormalizedJobModuleOptions extends NormalizedSchedulerOptions {
  storage: JobStorage;
  removeUndeclaredJobs: boolean;
}

/** Options of the dynamic module itself, beside the scheduler's. */
export interface JobModuleExtraOptions {
  /** Register the module globally, so that every module can inject `SchedulerService`. Default true. */
  isGlobal?: boolean;
}

/** A class that builds the module options: for `forRootAsync({ useClass })` and `{ useExisting }`. */
export interface JobOptionsFactory {
  createJobOptions(): Promise<JobModuleOptions> | JobModuleOptions;
}

/** Options of `JobModule.forRootAsync()`: exactly one of `useFactory`, `useClass` or `useExisting`. */
export interface JobModuleAsyncOptions
  extends Pick<ModuleMetadata, 'imports'>, JobModuleExtraOptions {
  /** A provider (made available through `imports`) implementing `JobOptionsFactory`. */
  useExisting?: Type<JobOptionsFactory>;
  /** A class implementing `JobOptionsFactory`, instantiated by the module. */
  useClass?: Type<JobOptionsFactory>;
  /** A function returning the options (or a promise of them); its arguments come from `inject`. */
  useFactory?: (...args: any[]) => Promise<JobModuleOptions> | JobModuleOptions;
  /** Providers passed to `useFactory`, in order. */
  inject?: FactoryProvider['inject'];
}
