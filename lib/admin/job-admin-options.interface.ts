import type { CanActivate, Type } from '@nestjs/common';

/** What `JobAdminModule.register()` takes. */
export interface JobAdminModuleOptions {
  /** Where the dashboard is mounted: the page at `/<path>/`, the JSON API under `/<path>/api`. Default `'jobs'`. */
  path?: string;
  /** Refuse every mutation (add, pause, resume, trigger, remove) with 403, on the server. Default false. */
  readOnly?: boolean;
  /**
   * The app's own guards (classes resolved by Nest, or instances), applied to every route of the
   * module, after its own checks. With guards, clients other than loopback are served.
   */
  guards?: Array<Type<CanActivate> | CanActivate>;
  /** Serve clients other than loopback without guards (behind your own proxy auth). Default false. */
  allowRemote?: boolean;
}

/** The options, checked. */
export interface NormalizedJobAdminOptions {
  readonly path: string;
  readonly readOnly: boolean;
  readonly guards: ReadonlyArray<Type<CanActivate> | CanActivate>;
  readonly allowRemote: boolean;
}
