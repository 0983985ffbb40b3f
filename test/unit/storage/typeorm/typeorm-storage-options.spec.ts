import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataSource } from 'typeorm';
import { InvalidArgumentError } from '../../../../lib/errors/invalid-argument.error.js';
import { InvalidOptionsError } from '../../../../lib/errors/invalid-options.error.js';
import { StorageClosedError } from '../../../../lib/errors/storage-closed.error.js';
import { isClusterStorage } from '../../../../lib/interfaces/cluster-storage.js';
import {
  isBatchStorage,
  isPrunableStorage,
  JobStorage,
} from '../../../../lib/interfaces/job-storage.js';
import {
  createJobEntitySchema,
  createJobSchedulerEntitySchemas,
  createJobTablesMigration,
  createLeaseEntitySchema,
  createRunEntitySchema,
  DEFAULT_JOB_TABLE_NAME,
  DEFAULT_LEASE_TABLE_NAME,
  DEFAULT_RUN_TABLE_NAME,
  TypeOrmStorage,
} from '../../../../lib/storage/typeorm/index.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';

/** DataSources that are never initialised: constructing a storage must run no SQL on them. */
const dataSources = {
  postgres: () => new DataSource({ type: 'postgres' }),
  mysql: () => new DataSource({ type: 'mysql' }),
  mariadb: () => new DataSource({ type: 'mariadb' }),
  sqlite: () => new DataSource({ type: 'better-sqlite3', database: ':memory:' }),
} satisfies Record<string, () => DataSource>;

/** A DataSource whose every way of running SQL is spied on. */
function spiedDataSource(make: () => DataSource = dataSources.sqlite) {
  const dataSource = make();
  const createQueryRunner = vi.spyOn(dataSource, 'createQueryRunner');
  const query = vi.spyOn(dataSource, 'query');
  const initialize = vi.spyOn(dataSource, 'initialize');
  return {
    dataSource,
    expectNoSql: () => {
      expect(createQueryRunner).not.toHaveBeenCalled();
      expect(query).not.toHaveBeenCalled();
      expect(initialize).not.toHaveBeenCalled();
    },
  };
}

/** The error `fn` throws; fails when it throws nothing. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectOptionError(error: unknown, option: string, ...mentions: string[]): void {
  expect(error).toBeInstanceOf(InvalidOptionsError);
  expect((error as InvalidOptionsError).code).toBe('INVALID_OPTIONS');
  expect((error as InvalidOptionsError).option).toBe(option);
  expect((error as Error).message).toContain(`Invalid option "${option}"`);
  for (const mention of mentions) expect((error as Error).message).toContain(mention);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TypeOrmStorage options', () => {
  it('is a JobStorage, a BatchStorage and a PrunableStorage', () => {
    const storage = new TypeOrmStorage(dataSources.sqlite());
    expect(storage).toBeInstanceOf(JobStorage);
    expect(isBatchStorage(storage)).toBe(true);
    expect(isPrunableStorage(storage)).toBe(true);
  });

  it('names the tables jobs and job_runs by default, after the prefix', () => {
    const plain = new TypeOrmStorage(dataSources.sqlite());
    expect([plain.jobTableName, plain.runTableName]).toStrictEqual([
      DEFAULT_JOB_TABLE_NAME,
      DEFAULT_RUN_TABLE_NAME,
    ]);
    expect([DEFAULT_JOB_TABLE_NAME, DEFAULT_RUN_TABLE_NAME]).toStrictEqual(['jobs', 'job_runs']);
    const prefixed = new TypeOrmStorage(dataSources.sqlite(), { tablePrefix: 'myapp_' });
    expect([prefixed.jobTableName, prefixed.runTableName]).toStrictEqual([
      'myapp_jobs',
      'myapp_job_runs',
    ]);
  });

  it('uses custom names as given: the prefix applies to the defaults only', () => {
    const storage = new TypeOrmStorage(dataSources.sqlite(), {
      tablePrefix: 'myapp_',
      jobTableName: 'custom_jobs',
    });
    expect([storage.jobTableName, storage.runTableName]).toStrictEqual([
      'custom_jobs',
      'myapp_job_runs',
    ]);
    const both = new TypeOrmStorage(dataSources.sqlite(), {
      tablePrefix: 'myapp_',
      jobTableName: 'Custom_Jobs_2',
      runTableName: 'custom_runs',
    });
    expect([both.jobTableName, both.runTableName]).toStrictEqual(['Custom_Jobs_2', 'custom_runs']);
  });

  it('names the lease table job_leases by default, after the prefix; leaseTableName as given', () => {
    expect(DEFAULT_LEASE_TABLE_NAME).toBe('job_leases');
    expect(new TypeOrmStorage(dataSources.sqlite()).leaseTableName).toBe('job_leases');
    expect(
      new TypeOrmStorage(dataSources.postgres(), { tablePrefix: 'myapp_' }).leaseTableName,
    ).toBe('myapp_job_leases');
    const custom = new TypeOrmStorage(dataSources.mysql(), {
      tablePrefix: 'myapp_',
      leaseTableName: 'Instances',
    });
    expect([custom.jobTableName, custom.runTableName, custom.leaseTableName]).toStrictEqual([
      'myapp_jobs',
      'myapp_job_runs',
      'Instances',
    ]);
  });

  it.each([
    ['leaseTableName', ''],
    ['leaseTableName', 'leases;'],
    ['leaseTableName', 'public.leases'],
    ['leaseTableName', 7],
  ])('refuses %s %j with InvalidOptionsError, running no SQL', (option, value) => {
    const { dataSource, expectNoSql } = spiedDataSource();
    const error = thrownBy(() => new TypeOrmStorage(dataSource, { [option]: value }));
    expectOptionError(error, option, 'letters, digits and "_"');
    expectNoSql();
  });

  it('refuses a lease table name equal to another table name, naming the option given', () => {
    const { dataSource, expectNoSql } = spiedDataSource();
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { leaseTableName: 'JOBS' })),
      'leaseTableName',
      'other than the job table name',
    );
    expectOptionError(
      thrownBy(
        () => new TypeOrmStorage(dataSource, { runTableName: 'runs', leaseTableName: 'runs' }),
      ),
      'leaseTableName',
      'other than the run table name',
    );
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { jobTableName: 'job_leases' })),
      'jobTableName',
      'other than the job table name',
    );
    expectOptionError(
      thrownBy(
        () => new TypeOrmStorage(dataSource, { tablePrefix: 'a_', runTableName: 'a_job_leases' }),
      ),
      'runTableName',
    );
    expectNoSql();
  });

  it('bounds the lease table name as the others, the prefix reported for the default', () => {
    const { dataSource, expectNoSql } = spiedDataSource(dataSources.postgres);
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { leaseTableName: 'l'.repeat(50) })),
      'leaseTableName',
      'at most 49 characters',
    );
    const prefix = 'p'.repeat(49 - 'job_leases'.length + 1);
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { tablePrefix: prefix })),
      'tablePrefix',
      `${prefix}job_leases`,
    );
    expectNoSql();
  });

  it.each([
    ['tablePrefix', 'my-app_'],
    ['tablePrefix', 'my app_'],
    ['tablePrefix', "x'; DROP TABLE jobs; --"],
    ['tablePrefix', 'app🎉_'],
    ['tablePrefix', 'schema.table_'],
    ['tablePrefix', 42],
    ['jobTableName', ''],
    ['jobTableName', 'jobs"'],
    ['jobTableName', 'public.jobs'],
    ['runTableName', 'runs`'],
    ['runTableName', 'runs\u0000'],
    ['runTableName', null],
  ])('refuses %s %j with InvalidOptionsError, running no SQL', (option, value) => {
    const { dataSource, expectNoSql } = spiedDataSource();
    const error = thrownBy(() => new TypeOrmStorage(dataSource, { [option]: value }));
    expectOptionError(error, option, 'letters, digits and "_"');
    expectNoSql();
  });

  it.each([
    ['postgres', 49],
    ['mysql', 50],
    ['mariadb', 50],
    ['sqlite', 50],
  ] as const)('bounds table names on %s to %i characters (room for index names)', (kind, max) => {
    const { dataSource, expectNoSql } = spiedDataSource(dataSources[kind]);
    const fits = 'j'.repeat(max);
    expect(new TypeOrmStorage(dataSource, { jobTableName: fits }).jobTableName).toBe(fits);
    const error = thrownBy(() => new TypeOrmStorage(dataSource, { runTableName: `${fits}r` }));
    expectOptionError(error, 'runTableName', `at most ${max} characters`);

    // A prefix that makes a default name too long is reported as the prefix.
    const prefix = 'p'.repeat(max - 'job_runs'.length + 1);
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { tablePrefix: prefix })),
      'tablePrefix',
      `${prefix}job_runs`,
    );
    expectNoSql();
  });

  it('refuses the same name for both tables', () => {
    const { dataSource, expectNoSql } = spiedDataSource();
    expectOptionError(
      thrownBy(
        () => new TypeOrmStorage(dataSource, { jobTableName: 'history', runTableName: 'HISTORY' }),
      ),
      'runTableName',
      'other than the job table name',
    );
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, { jobTableName: 'job_runs' })),
      'jobTableName',
    );
    expectNoSql();
  });

  it('refuses unknown options and a non-boolean createTables', () => {
    const { dataSource, expectNoSql } = spiedDataSource();
    expectOptionError(
      thrownBy(
        () =>
          new TypeOrmStorage(dataSource, { prefix: 'x_' } as unknown as { tablePrefix: string }),
      ),
      'prefix',
      'known: tablePrefix, jobTableName, runTableName, leaseTableName, createTables',
    );
    expectOptionError(
      thrownBy(
        () =>
          new TypeOrmStorage(dataSource, { createTables: 'yes' } as unknown as {
            createTables: boolean;
          }),
      ),
      'createTables',
      'true or false',
    );
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(dataSource, 'x_' as unknown as { tablePrefix: string })),
      'options',
    );
    expectNoSql();
  });

  it('refuses what is not a DataSource, and unsupported databases', () => {
    for (const notADataSource of [undefined, null, {}, 'postgres://x', { options: {} }]) {
      expectOptionError(
        thrownBy(() => new TypeOrmStorage(notADataSource as unknown as DataSource)),
        'dataSource',
        'a TypeORM DataSource',
      );
    }
    const oracle = {
      options: { type: 'oracle' },
      createQueryRunner: vi.fn(),
    } as unknown as DataSource;
    expectOptionError(
      thrownBy(() => new TypeOrmStorage(oracle)),
      'dataSource',
      'oracle',
      '"postgres", "mysql", "mariadb" or "better-sqlite3"',
    );
    expect(oracle.createQueryRunner).not.toHaveBeenCalled();
  });

  it('fails clearly on first use when the DataSource is not initialized, and never initializes it', async () => {
    const { dataSource, expectNoSql } = spiedDataSource();
    const storage = new TypeOrmStorage(dataSource);
    const error = await storage.getJob('x').catch((caught: unknown) => caught);
    expectOptionError(error, 'dataSource', 'not initialized', 'dataSource.initialize()');
    await expect(storage.initialize()).rejects.toBeInstanceOf(InvalidOptionsError);
    expectNoSql();
  });

  it('retries initialisation after a failure, once the DataSource is ready', async () => {
    const dataSource = dataSources.sqlite();
    const storage = new TypeOrmStorage(dataSource, { tablePrefix: 'retry_' });
    await expect(storage.ping()).rejects.toBeInstanceOf(InvalidOptionsError);
    await dataSource.initialize();
    try {
      await expect(storage.ping()).resolves.toBeUndefined();
      expect(await storage.listJobs()).toStrictEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('names itself in StorageClosedError, and closing leaves the DataSource alone', async () => {
    const { dataSource } = spiedDataSource();
    const destroy = vi.spyOn(dataSource, 'destroy');
    const storage = new TypeOrmStorage(dataSource);
    await storage.close();
    await storage.close();
    expect(destroy).not.toHaveBeenCalled();
    const error = await storage.listJobs().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageClosedError);
    expect((error as Error).message).toContain('TypeOrmStorage');
    expect(() => storage.initialize()).toThrow(StorageClosedError);
  });
});

describe('TypeOrmStorage as a ClusterStorage', () => {
  it.each(['postgres', 'mysql', 'mariadb'] as const)(
    'supports cluster mode on %s, saying so without any SQL',
    (kind) => {
      const { dataSource, expectNoSql } = spiedDataSource(dataSources[kind]);
      const storage = new TypeOrmStorage(dataSource);
      expect(isClusterStorage(storage)).toBe(true);
      expect(storage.clusterUnsupportedReason()).toBeNull();
      expectNoSql();
    },
  );

  it('refuses cluster mode on SQLite with a reason, and every cluster method rejects without SQL', async () => {
    const { dataSource, expectNoSql } = spiedDataSource();
    const storage = new TypeOrmStorage(dataSource);
    const reason = storage.clusterUnsupportedReason();
    expect(reason).toBe(
      "SQLite (better-sqlite3) is one process's file: cluster mode needs PostgreSQL, MySQL or MariaDB, which several scheduler instances can share",
    );
    const job = makeJob();
    for (const call of [
      () => storage.clusterNow(),
      () => storage.acquireLease('a#1', 'a', 1_000),
      () => storage.renewLease('a#1', 1_000),
      () => storage.releaseLease('a#1'),
      () => storage.listLeases(),
      () => storage.findOrphanedJobs(),
      () => storage.writeJobIf(job, { version: 0 }),
      () => storage.createClaimedRun(makeRun(job.id), 'a#1'),
      () => storage.finishRun(makeRun(job.id)),
    ]) {
      const error = await call().catch((caught: unknown) => caught);
      expectOptionError(error, 'dataSource', 'cluster mode', reason as string);
    }
    expectNoSql();
  });

  it('checks lease ids, ttls and conditions before any SQL', async () => {
    const { dataSource, expectNoSql } = spiedDataSource(dataSources.postgres);
    const storage = new TypeOrmStorage(dataSource);
    const job = makeJob();
    for (const [call, argument] of [
      [() => storage.acquireLease('', 'a', 1_000), 'leaseId'],
      [() => storage.acquireLease('a#1', 'x'.repeat(129), 1_000), 'instanceId'],
      [() => storage.acquireLease('a#1', 'a', 0), 'ttlMs'],
      [() => storage.renewLease('a#1', Number.POSITIVE_INFINITY), 'ttlMs'],
      [() => storage.releaseLease('a\u0000b'), 'leaseId'],
      [() => storage.writeJobIf(job, { version: Number.NaN }), 'condition.version'],
      [() => storage.writeJobIf(job, { version: 0, lease: '' }), 'condition.lease'],
      [() => storage.createClaimedRun(makeRun(job.id), ''), 'claimedBy'],
    ] as const) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe(argument);
    }
    expectNoSql();
  });
});

describe('TypeORM entity schemas', () => {
  it('name the tables and differ per database type', () => {
    const [pgJobs, pgRuns] = createJobSchedulerEntitySchemas({
      type: 'postgres',
      tablePrefix: 'app_',
    });
    expect(pgJobs.options.tableName).toBe('app_jobs');
    expect(pgRuns.options.tableName).toBe('app_job_runs');
    expect(pgJobs.options.name).toBe('JobSchedulerJob:app_jobs');
    expect(pgJobs.options.columns.nextRunAt).toMatchObject({
      name: 'next_run_at',
      type: 'timestamptz',
      precision: 3,
      nullable: true,
    });
    const mysqlRuns = createRunEntitySchema({ type: 'mariadb', tableName: 'runs' });
    expect(mysqlRuns.options.columns.output).toMatchObject({ type: 'mediumtext' });
    expect(mysqlRuns.options.columns.startAt).toMatchObject({ type: 'datetime', precision: 3 });
    const sqliteJobs = createJobEntitySchema({ type: 'better-sqlite3' });
    expect(sqliteJobs.options.tableName).toBe('jobs');
    expect(sqliteJobs.options.columns.createdAt).toMatchObject({ type: 'bigint' });
    expect(sqliteJobs.options.indices?.map((index) => index.name)).toStrictEqual([
      'jobs_id_key',
      'jobs_due_idx',
      'jobs_created_idx',
      'jobs_claim_idx',
    ]);
  });

  it('include the lease table, and the claim column in the jobs table', () => {
    const schemas = createJobSchedulerEntitySchemas({ type: 'mariadb', tablePrefix: 'app_' });
    expect(schemas.map((schema) => schema.options.tableName)).toStrictEqual([
      'app_jobs',
      'app_job_runs',
      'app_job_leases',
    ]);
    const [jobs, , leases] = schemas;
    expect(jobs.options.columns.claimedBy).toMatchObject({
      name: 'claimed_by',
      type: 'varchar',
      length: 128,
      nullable: true,
    });
    expect(leases.options.name).toBe('JobSchedulerLease:app_job_leases');
    expect(Object.keys(leases.options.columns)).toStrictEqual([
      'seq',
      'id',
      'instanceId',
      'acquiredAt',
      'expiresAt',
    ]);
    expect(leases.options.columns.expiresAt).toMatchObject({
      name: 'expires_at_ms',
      type: 'bigint',
    });
    expect(leases.options.indices?.map((index) => index.name)).toStrictEqual([
      'app_job_leases_id_key',
    ]);
    const custom = createLeaseEntitySchema({ type: 'postgres', tableName: 'instances' });
    expect(custom.options.tableName).toBe('instances');
    expect(createLeaseEntitySchema({ type: 'postgres' }).options.tableName).toBe('job_leases');
    expectOptionError(
      thrownBy(() => createLeaseEntitySchema({ type: 'postgres', tableName: 'a b' })),
      'tableName',
    );
  });

  it('refuse unsupported types and bad names', () => {
    expectOptionError(
      thrownBy(() => createJobEntitySchema({ type: 'oracle' })),
      'type',
      'oracle',
    );
    expectOptionError(
      thrownBy(() => createRunEntitySchema({ type: 'postgres', tableName: 'bad name' })),
      'tableName',
    );
  });
});

describe('createJobTablesMigration', () => {
  it('names the migration with a fixed timestamp, per pair of tables', () => {
    const Default = createJobTablesMigration();
    expect(new Default().name).toBe('CreateJobSchedulerTables1767225600000');
    expect(Default.name).toBe('CreateJobSchedulerTables1767225600000');
    const Prefixed = createJobTablesMigration({ tablePrefix: 'myapp_' });
    expect(new Prefixed().name).toBe(
      'CreateJobSchedulerTables_myapp_jobs_myapp_job_runs_1767225600000',
    );
    expect(new Prefixed().name?.slice(-13)).toBe('1767225600000');
  });

  it('refuses bad table names and schemas where it is made', () => {
    expectOptionError(
      thrownBy(() => createJobTablesMigration({ tablePrefix: 'a-b' })),
      'tablePrefix',
    );
    expectOptionError(
      thrownBy(() => createJobTablesMigration({ schema: 'x"; DROP' })),
      'schema',
    );
  });

  it('refuses an unsupported database when it runs', async () => {
    const Migration = createJobTablesMigration();
    const runner = { dataSource: { options: { type: 'oracle' } } } as unknown as Parameters<
      InstanceType<typeof Migration>['up']
    >[0];
    const error = await new Migration().up(runner).catch((caught: unknown) => caught);
    expectOptionError(error, 'dataSource', 'oracle');
  });
});
