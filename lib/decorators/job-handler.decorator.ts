import { InvalidJobHandlerError } from '../errors/invalid-job-handler.error.js';
import { describeValue } from '../errors/describe-value.js';
import type {
  JobHandlerMetadata,
  JobHandlerOptions,
} from '../interfaces/job-handler-options.interface.js';
import { DECLARED_JOB_POLICY_OPTIONS, JOB_HANDLER_METADATA } from '../job.constants.js';

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'cron',
  'interval',
  'timezone',
  'payload',
  'maxRetry',
  'description',
  'jobName',
  'concurrency',
  ...DECLARED_JOB_POLICY_OPTIONS,
]);

/**
 * Marks a job handler, found at bootstrap and registered under `name`:
 * - on a provider class, its `execute(payload, ctx)` method is the handler;
 * - on a method of any provider (or controller), that method is the handler.
 *
 * With `cron` or `interval` in `options`, it also declares a recurring job, created or updated in
 * storage at bootstrap under the stable id `handler:<name>`, so restarts and several instances
 * never duplicate it. A bad name or options throw `InvalidJobHandlerError` where the decorator is
 * applied.
 */
export function JobHandler(
  name: string,
  options?: JobHandlerOptions,
): ClassDecorator & MethodDecorator {
  const decorator = (
    target: object,
    key?: string | symbol,
    descriptor?: PropertyDescriptor,
  ): void => {
    const place = describeTarget(target, key);
    const metadata = validate(place, name, options);
    if (key === undefined) {
      if (typeof target !== 'function') {
        throw new InvalidJobHandlerError(place, 'it can only decorate a class or a method');
      }
      assertNotMarked(place, target);
      Reflect.defineMetadata(JOB_HANDLER_METADATA, metadata, target);
      return;
    }
    if (typeof target === 'function') {
      throw new InvalidJobHandlerError(
        place,
        'it cannot decorate a static method: make the method an instance method of a provider',
      );
    }
    const method: unknown = descriptor?.value;
    if (typeof method !== 'function') {
      throw new InvalidJobHandlerError(
        place,
        'it can only decorate a method (not a property or an accessor)',
      );
    }
    assertNotMarked(place, method);
    Reflect.defineMetadata(JOB_HANDLER_METADATA, metadata, method);
  };
  return decorator as ClassDecorator & MethodDecorator;
}

function describeTarget(target: object, key: string | symbol | undefined): string {
  if (key === undefined)
    return typeof target === 'function' ? target.name || 'an anonymous class' : '?';
  const owner = typeof target === 'function' ? target : target.constructor;
  return `${owner?.name || 'an anonymous class'}#${String(key)}`;
}

function assertNotMarked(place: string, target: object): void {
  const existing: JobHandlerMetadata | undefined = Reflect.getOwnMetadata(
    JOB_HANDLER_METADATA,
    target,
  );
  if (existing) {
    throw new InvalidJobHandlerError(
      place,
      `it is already marked @JobHandler("${existing.name}"); a class or method is one handler, so keep one decorator`,
    );
  }
}

function validate(place: string, name: unknown, options: unknown): JobHandlerMetadata {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidJobHandlerError(
      place,
      `the handler name must be a non-blank string (got ${describeValue(name)}); jobs refer to it as their handlerName`,
    );
  }
  if (options === undefined) return Object.freeze({ name, options: Object.freeze({}) });
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidJobHandlerError(
      place,
      `options must be an object such as { cron: '0 0 * * * *' } (got ${describeValue(options)})`,
    );
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) {
      throw new InvalidJobHandlerError(
        place,
        `unknown option "${key}"; the options are ${[...OPTION_KEYS].join(', ')}`,
      );
    }
  }
  const declared = o.cron !== undefined || o.interval !== undefined;
  if (o.cron !== undefined && o.interval !== undefined) {
    throw new InvalidJobHandlerError(
      place,
      'options "cron" and "interval" exclude each other: a declared job has one schedule',
    );
  }
  if (o.cron !== undefined && (typeof o.cron !== 'string' || o.cron.trim() === '')) {
    throw new InvalidJobHandlerError(
      place,
      `option "cron" must be a cron expression such as '*/5 * * * * *' (got ${describeValue(o.cron)})`,
    );
  }
  if (
    o.interval !== undefined &&
    typeof o.interval !== 'number' &&
    typeof o.interval !== 'string'
  ) {
    throw new InvalidJobHandlerError(
      place,
      `option "interval" must be milliseconds or a duration such as '30s' (got ${describeValue(o.interval)})`,
    );
  }
  if (o.timezone !== undefined && (o.cron === undefined || typeof o.timezone !== 'string')) {
    throw new InvalidJobHandlerError(
      place,
      `option "timezone" must be an IANA time zone name and goes with "cron" (got ${describeValue(o.timezone)})`,
    );
  }
  if (
    o.maxRetry !== undefined &&
    (typeof o.maxRetry !== 'number' || !Number.isSafeInteger(o.maxRetry) || o.maxRetry < 0)
  ) {
    throw new InvalidJobHandlerError(
      place,
      `option "maxRetry" must be an integer >= 0 (got ${describeValue(o.maxRetry)})`,
    );
  }
  if (
    o.concurrency !== undefined &&
    (typeof o.concurrency !== 'number' || !Number.isSafeInteger(o.concurrency) || o.concurrency < 1)
  ) {
    throw new InvalidJobHandlerError(
      place,
      `option "concurrency" must be a whole number of at least 1 (got ${describeValue(o.concurrency)})`,
    );
  }
  for (const key of ['description', 'jobName'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') {
      throw new InvalidJobHandlerError(
        place,
        `option "${key}" must be a string (got ${describeValue(o[key])})`,
      );
    }
  }
  if (!declared) {
    const stray = [
      'payload',
      'maxRetry',
      'description',
      'jobName',
      ...DECLARED_JOB_POLICY_OPTIONS,
    ].filter((k) => o[k] !== undefined);
    if (stray.length > 0) {
      throw new InvalidJobHandlerError(
        place,
        `option${stray.length > 1 ? 's' : ''} ${stray.map((k) => `"${k}"`).join(', ')} describe a declared job, which needs "cron" or "interval"; add one, or add jobs with SchedulerService.addJob()`,
      );
    }
  }
  return Object.freeze({ name, options: Object.freeze({ ...(o as JobHandlerOptions) }) });
}
