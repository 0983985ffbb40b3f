import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../../interfaces/history-query.interface.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import {
  checkJobQuery,
  checkRunId,
  checkRunQuery,
  checkRunStatsQuery,
} from '../history/history-arguments.js';
import { jobPage, runPage, statsBuckets } from '../history/history-pages.js';
import { HistorySql } from './history-sql.js';
import type { JobRowCodec } from './job-row-codec.js';
import type { JobSql } from './job-sql.js';
import type { SqlSession } from './sql-session.js';

/**
 * `TypeOrmStorage`'s history queries: each one statement (`HistorySql`), paged by key (`limit + 1`
 * rows, no OFFSET, no COUNT), `runStats` one `GROUP BY` over the runs' `(start_at, id)` index.
 */
export class TypeOrmHistory {
  private historySql?: HistorySql;

  constructor(
    private readonly session: SqlSession,
    private readonly codec: JobRowCodec,
  ) {}

  async findJobs(query?: JobQuery): Promise<Page<Job>> {
    const q = checkJobQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.statements(sql).findJobs(q));
      return jobPage(
        rows.map((row) => this.codec.toJob(row)),
        q,
      );
    });
  }

  async findRuns(query?: RunQuery): Promise<Page<Run>> {
    const q = checkRunQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.statements(sql).findRuns(q));
      return runPage(
        rows.map((row) => this.codec.toRun(row)),
        q,
      );
    });
  }

  async getRun(runId: string): Promise<Run | null> {
    const id = checkRunId(runId);
    return this.session.use(async (sql) => {
      const [row] = await this.session.rows(this.statements(sql).getRun(id));
      return row ? this.codec.toRun(row) : null;
    });
  }

  async runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    const q = checkRunStatsQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.statements(sql).runStats(q));
      return statsBuckets(
        q,
        rows.map((row) => ({
          bucket: Number(row.bucket),
          succeeded: Number(row.succeeded),
          failed: Number(row.failed),
          avgDurationMs: row.avg_ms === null ? null : Number(row.avg_ms),
          maxDurationMs: row.max_ms === null ? null : Number(row.max_ms),
        })),
      );
    });
  }

  private statements(sql: JobSql): HistorySql {
    this.historySql ??= new HistorySql(sql, (ms) => this.codec.encodeInstant(new Date(ms)));
    return this.historySql;
  }
}
