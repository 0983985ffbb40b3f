// The `./admin` entry point: the admin API and dashboard (`JobAdminModule`).
export { JobAdminModule } from './job-admin.module.js';
export type { JobAdminModuleOptions } from './job-admin-options.interface.js';
export { ADMIN_SECURITY_HEADERS } from './admin-headers.interceptor.js';
export type { AdminJob, RecentRun } from './admin-jobs.js';
export type { AdminErrorBody } from './admin-errors.js';
