/**
 * The logger the scheduler writes to: Nest's `LoggerService` shape, so Nest's `Logger`, any
 * `LoggerService`, `StdLogger` and `NopLogger` all fit.
 */
export interface JobLogger {
  log(message: any, ...optionalParams: any[]): any;
  error(message: any, ...optionalParams: any[]): any;
  warn(message: any, ...optionalParams: any[]): any;
  debug?(message: any, ...optionalParams: any[]): any;
  verbose?(message: any, ...optionalParams: any[]): any;
}
