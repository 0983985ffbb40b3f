import {
  Body,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Sse,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Subject, takeUntil, type Observable } from 'rxjs';
import type { Page } from '../interfaces/history-query.interface.js';
import { isClusterStorage, type LeaseRecord } from '../interfaces/cluster-storage.js';
import type { JobDefinition } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { SchedulerService } from '../scheduler.service.js';
import { serverSentEvents, type ServerSentEvent } from './admin-events.js';
import { AdminHttpError } from './admin-errors.js';
import { AdminJobs, RECENT_RUNS, type AdminJob } from './admin-jobs.js';
import { jobQuery, requiredText, runQuery, statsQuery, type QueryParams } from './admin-query.js';
import { requester, type AdminRequest } from './admin-request.js';
import type { NormalizedJobAdminOptions } from './job-admin-options.interface.js';
import { JOB_ADMIN_OPTIONS } from './job-admin-options.js';

/**
 * The admin JSON API (`<path>/api/...`), over `SchedulerService`. Mounted at the module's `path`
 * by `JobAdminModule.register()`, behind `AdminAccessGuard` and the app's guards; errors are
 * answered by `AdminErrorFilter`. Every change is logged: who, what, which job.
 */
export class AdminApiController implements OnModuleDestroy {
  private readonly jobs = new AdminJobs();
  /** Ends the event streams when the app closes: an open one would hold its HTTP server up. */
  private readonly closing = new Subject<void>();
  /** The connections of the event streams open now. */
  private readonly streams = new Set<NonNullable<AdminRequest['socket']>>();

  constructor(
    @Inject(SchedulerService) private readonly scheduler: SchedulerService,
    @Inject(JOB_ADMIN_OPTIONS) private readonly options: NormalizedJobAdminOptions,
  ) {}

  @Get('api/jobs')
  async listJobs(@Query() params: QueryParams): Promise<Page<AdminJob>> {
    const page = await this.scheduler.findJobs(jobQuery(params));
    const now = Date.now();
    const items = await Promise.all(
      page.items.map(async (job) =>
        this.jobs.present(job, await this.scheduler.getRuns(job.id, RECENT_RUNS), now),
      ),
    );
    return { items, nextCursor: page.nextCursor };
  }

  @Get('api/jobs/:id')
  job(@Param('id') id: string): Promise<AdminJob> {
    return this.present(id);
  }

  @Get('api/jobs/:id/runs')
  async jobRuns(@Param('id') id: string, @Query() params: QueryParams): Promise<Page<Run>> {
    await this.scheduler.getJob(id); // 404 for an unknown job
    return this.scheduler.findRuns(runQuery(params, id));
  }

  @Get('api/runs')
  runs(@Query() params: QueryParams): Promise<Page<Run>> {
    return this.scheduler.findRuns(runQuery(params));
  }

  @Get('api/runs/:id')
  async run(@Param('id') id: string): Promise<Run> {
    const run = await this.scheduler.getRun(id);
    if (run === null) throw new AdminHttpError(404, 'RUN_NOT_FOUND', `No run with id "${id}".`);
    return run;
  }

  @Post('api/jobs')
  @HttpCode(201)
  async addJob(@Body() body: unknown, @Req() request: AdminRequest): Promise<AdminJob> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AdminHttpError(
        400,
        'INVALID_JOB',
        'The body must be a JSON object: a job definition.',
      );
    }
    return this.change(request, 'added', (body as { id?: unknown }).id, async () => {
      const job = await this.scheduler.addJob(body as JobDefinition);
      return this.jobs.present(job, [], Date.now());
    });
  }

  @Post('api/jobs/:id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string, @Req() request: AdminRequest): Promise<AdminJob> {
    return this.change(request, 'paused', id, async () => {
      await this.scheduler.pauseJob(id);
      return this.present(id);
    });
  }

  @Post('api/jobs/:id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @Req() request: AdminRequest): Promise<AdminJob> {
    return this.change(request, 'resumed', id, async () => {
      await this.scheduler.resumeJob(id);
      return this.present(id);
    });
  }

  @Post('api/jobs/:id/trigger')
  @HttpCode(202)
  trigger(@Param('id') id: string, @Req() request: AdminRequest): Promise<{ triggered: true }> {
    return this.change(request, 'triggered', id, async () => {
      await this.scheduler.triggerJob(id);
      return { triggered: true as const };
    });
  }

  @Delete('api/jobs/:id')
  @HttpCode(200)
  remove(@Param('id') id: string, @Req() request: AdminRequest): Promise<{ removed: true }> {
    return this.change(request, 'removed', id, async () => {
      await this.scheduler.removeJob(id);
      return { removed: true as const };
    });
  }

  @Get('api/stats')
  stats(@Query() params: QueryParams) {
    return this.scheduler.runStats(statsQuery(params, Date.now()));
  }

  @Get('api/health')
  async health() {
    const [health, instances] = await Promise.all([this.scheduler.health(), this.instances()]);
    const metrics = this.scheduler.metrics();
    return {
      ...health,
      instances,
      metrics: {
        runsStarted: metrics.runsStarted,
        runsSucceeded: metrics.runsSucceeded,
        runsFailed: metrics.runsFailed,
        runsRetried: metrics.runsRetried,
        runsTimedOut: metrics.runsTimedOut,
        scheduledJobs: metrics.scheduledJobs,
      },
      readOnly: this.options.readOnly,
      serverTime: new Date(),
    };
  }

  @Get('api/cron')
  cron(@Query() params: QueryParams): { text: string | null; nextFires: Date[] } {
    const expr = requiredText(params, 'expr');
    const tz = typeof params.tz === 'string' && params.tz !== '' ? params.tz : null;
    const nextFires = this.jobs.cronFires(expr, tz, Date.now());
    return { text: this.jobs.cronText(expr, tz), nextFires };
  }

  @Sse('api/events')
  events(@Req() request: AdminRequest): Observable<ServerSentEvent> {
    const socket = request.socket;
    if (socket !== undefined) {
      this.streams.add(socket);
      socket.once('close', () => this.streams.delete(socket));
    }
    return serverSentEvents(this.scheduler.events$).pipe(takeUntil(this.closing));
  }

  /**
   * Ends the event streams, then their connections once the end is written: an open dashboard
   * would otherwise hold the HTTP server up (a stream's connection is kept alive) until the
   * browser lets go of it.
   */
  onModuleDestroy(): void {
    this.closing.next();
    this.closing.complete();
    for (const socket of this.streams) setImmediate(() => socket.end());
    this.streams.clear();
  }

  private async present(id: string): Promise<AdminJob> {
    const job = await this.scheduler.getJob(id);
    return this.jobs.present(job, await this.scheduler.getRuns(id, RECENT_RUNS), Date.now());
  }

  /** The leases of the instances sharing the database, in cluster mode. */
  private async instances(): Promise<LeaseRecord[] | null> {
    const storage = this.scheduler.storage;
    if (this.scheduler.options.cluster === null || !isClusterStorage(storage)) return null;
    return storage.listLeases().catch(() => null);
  }

  /** Makes a change and logs it (who, what, which job), or logs why it failed. */
  private async change<T>(
    request: AdminRequest,
    what: string,
    jobId: unknown,
    work: () => Promise<T>,
  ): Promise<T> {
    const logger = this.scheduler.options.logger;
    const job = typeof jobId === 'string' ? `job "${jobId}"` : 'a job';
    try {
      const result = await work();
      const id = (result as { id?: unknown }).id;
      logger.log(
        `Admin: ${requester(request)} ${what} ${typeof id === 'string' ? `job "${id}"` : job}`,
      );
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      logger.warn(
        `Admin: ${requester(request)} could not have ${job} ${what}: ${String(code ?? error)}`,
      );
      throw error;
    }
  }
}
