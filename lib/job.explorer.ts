import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { declaredJobId } from './declared-job-id.js';
import { DuplicateJobModuleError } from './errors/duplicate-job-module.error.js';
import { InvalidJobError } from './errors/invalid-job.error.js';
import { InvalidJobHandlerError } from './errors/invalid-job-handler.error.js';
import { RequestScopedJobHandlerError } from './errors/request-scoped-job-handler.error.js';
import type { Handler, HandlerFunc } from './interfaces/handler.interface.js';
import type {
  JobHandlerMetadata,
  JobHandlerOptions,
} from './interfaces/job-handler-options.interface.js';
import type { JobDefinition } from './interfaces/job.interface.js';
import type { NormalizedJobModuleOptions } from './interfaces/job-module-options.interface.js';
import {
  DECLARED_JOB_ID_PREFIX,
  DECLARED_JOB_POLICY_OPTIONS,
  JOB_HANDLER_METADATA,
  NORMALIZED_JOB_MODULE_OPTIONS,
} from './job.constants.js';
import { SchedulerService } from './scheduler.service.js';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** Fails to compile while a policy option is not both a `@JobHandler` option and a definition field. */
const policyOptionsAreFields: readonly (keyof JobHandlerOptions & keyof JobDefinition)[] =
  DECLARED_JOB_POLICY_OPTIONS;
void policyOptionsAreFields;

/** A `@JobHandler` found on a class (`method` undefined) or on one of its methods. */
interface FoundHandler {
  metadata: JobHandlerMetadata;
  /** `ClassName` or `ClassName#method`. */
  source: string;
  method?: string;
}

/**
 * Finds `@JobHandler` classes and methods among the application's providers and controllers in
 * `onModuleInit`, registers them on the `SchedulerService`, and creates or updates the jobs they
 * declare (before the scheduler starts in `onApplicationBootstrap`).
 */
@Injectable()
export class JobExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly scheduler: SchedulerService,
    private readonly moduleRef: ModuleRef,
    @Inject(NORMALIZED_JOB_MODULE_OPTIONS) private readonly options: NormalizedJobModuleOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    this.assertConfiguredOnce();
    const declared: FoundHandler[] = [];
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      if (wrapper.isAlias) continue;
      const instance: unknown = wrapper.instance;
      if (typeof instance !== 'object' || instance === null || seen.has(instance)) continue;
      const cls: unknown =
        !wrapper.metatype || wrapper.inject ? instance.constructor : wrapper.metatype;
      if (typeof cls !== 'function') continue;
      const found = this.handlersOf(cls, instance);
      if (found.length === 0) continue;
      seen.add(instance);
      if (!wrapper.isDependencyTreeStatic()) {
        throw new RequestScopedJobHandlerError(found[0].metadata.name, found[0].source);
      }
      // A transient provider's static instance is a bare prototype: the scheduler, like any
      // consumer of a transient provider, gets an instance of its own.
      const target: object = wrapper.isTransient
        ? await this.moduleRef.resolve(wrapper.token, undefined, { strict: false })
        : instance;
      for (const handler of found) {
        this.register(handler, target, wrapper);
        if (
          handler.metadata.options.cron !== undefined ||
          handler.metadata.options.interval !== undefined
        ) {
          declared.push(handler);
        }
      }
    }
    for (const handler of declared) await this.ensureDeclaredJob(handler);
    if (this.options.removeUndeclaredJobs) {
      await this.removeUndeclaredJobs(new Set(declared.map((h) => declaredJobId(h.metadata.name))));
    }
  }

  /**
   * `removeUndeclaredJobs`: a stored declared job whose declaration is gone from the code is
   * removed, with its run history (each one logged).
   */
  private async removeUndeclaredJobs(declared: ReadonlySet<string>): Promise<void> {
    for (const job of await this.scheduler.listJobs()) {
      if (!job.id.startsWith(DECLARED_JOB_ID_PREFIX) || declared.has(job.id)) continue;
      await this.scheduler.removeJob(job.id);
      this.options.logger.log(
        `Removed job "${job.id}" and its runs: its @JobHandler("${job.handlerName}") declaration is gone from the code (removeUndeclaredJobs).`,
      );
    }
  }

  /** Creates or updates a declared job; an invalid one names the decorator that declares it. */
  private async ensureDeclaredJob(handler: FoundHandler): Promise<void> {
    const definition = this.definitionOf(handler);
    try {
      await this.scheduler.ensureJob(definition);
    } catch (err) {
      if (err instanceof InvalidJobError) {
        err.message += ` It is declared by @JobHandler("${handler.metadata.name}", { ... }) on ${handler.source}, as job "${definition.id}".`;
      }
      throw err;
    }
  }

  /** Two `JobModule.forRoot()` imports would make two explorers registering every handler twice. */
  private assertConfiguredOnce(): void {
    const explorers = this.discovery
      .getProviders()
      .filter((wrapper) => !wrapper.isAlias && wrapper.metatype === JobExplorer);
    if (explorers.length > 1) throw new DuplicateJobModuleError(explorers.length);
  }

  private handlersOf(cls: Function, instance: object): FoundHandler[] {
    const found: FoundHandler[] = [];
    const onClass: JobHandlerMetadata | undefined = Reflect.getMetadata(JOB_HANDLER_METADATA, cls);
    if (onClass) found.push({ metadata: onClass, source: cls.name });
    const prototype: unknown = Object.getPrototypeOf(instance);
    if (typeof prototype !== 'object' || prototype === null) return found;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const fn: unknown = (prototype as Record<string, unknown>)[method];
      if (typeof fn !== 'function') continue;
      const metadata: JobHandlerMetadata | undefined = Reflect.getMetadata(
        JOB_HANDLER_METADATA,
        fn,
      );
      if (metadata) found.push({ metadata, source: `${cls.name}#${method}`, method });
    }
    return found;
  }

  private register(handler: FoundHandler, instance: object, wrapper: InstanceWrapper): void {
    const { metadata, source, method } = handler;
    if (method === undefined) {
      if (typeof (instance as Partial<Handler>).execute !== 'function') {
        throw new InvalidJobHandlerError(
          source,
          `the class is marked @JobHandler("${metadata.name}") but has no execute(payload, ctx) method${
            wrapper.isNotMetatype
              ? ' (its provider is a factory or a value: check the object it gives)'
              : ''
          }; add one, or put @JobHandler on the method that handles the job`,
        );
      }
      this.scheduler.registerHandler(metadata.name, instance as Handler, {
        source,
        concurrency: metadata.options.concurrency,
      });
      return;
    }
    const fn = (instance as Record<string, HandlerFunc>)[method];
    this.scheduler.registerHandlerFunc(
      metadata.name,
      (payload, ctx) => fn.call(instance, payload, ctx),
      { source, concurrency: metadata.options.concurrency },
    );
  }

  private definitionOf({ metadata }: FoundHandler): JobDefinition & { id: string } {
    const { name, options } = metadata;
    const definition: JobDefinition & { id: string } = {
      id: declaredJobId(name),
      name: options.jobName ?? name,
      description: options.description ?? '',
      handlerName: name,
      payload: options.payload ?? null,
      maxRetry: options.maxRetry ?? 0,
    };
    if (options.cron !== undefined) definition.cron = options.cron;
    if (options.interval !== undefined) definition.interval = options.interval;
    if (options.timezone !== undefined) definition.timezone = options.timezone;
    // The run policy of the declared job: left out, the definition's defaults (so that removing
    // one from the decorator puts the stored job back on the default at the next bootstrap).
    for (const key of DECLARED_JOB_POLICY_OPTIONS) {
      if (options[key] !== undefined)
        (definition as unknown as Record<string, unknown>)[key] = options[key];
    }
    return definition;
  }
}
