import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The package's public surface: every name each entry point exports, values and types, read by the
 * TypeScript compiler from lib/. A change here is a change of the public API: make it on purpose,
 * and say so in the README and the changelog of the release.
 */
const LIB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');
const ENTRIES = {
  'nestjs-job-scheduler': 'index.ts',
  'nestjs-job-scheduler/typeorm': 'storage/typeorm/index.ts',
  'nestjs-job-scheduler/terminus': 'health/index.ts',
  'nestjs-job-scheduler/testing': 'testing/index.ts',
  'nestjs-job-scheduler/admin': 'admin/index.ts',
} as const;

/** `name` for a value (a class, function or constant), `type name` for a type only. */
function exportsOf(entry: string): string[] {
  const file = join(LIB, entry);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const module = checker.getSymbolAtLocation(source)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return target.flags & ts.SymbolFlags.Value ? symbol.name : `type ${symbol.name}`;
    })
    .sort();
}

describe('the public surface', () => {
  const surfaces = Object.fromEntries(
    Object.entries(ENTRIES).map(([name, entry]) => [name, exportsOf(entry)]),
  );

  it('of the root', () => {
    expect(surfaces['nestjs-job-scheduler']).toMatchInlineSnapshot(`
      [
        "DuplicateJobHandlerError",
        "DuplicateJobModuleError",
        "HandlerNotFoundError",
        "InstanceLostError",
        "InvalidArgumentError",
        "InvalidJobError",
        "InvalidJobHandlerError",
        "InvalidOptionsError",
        "JobAlreadyExistsError",
        "JobConflictError",
        "JobHandler",
        "JobModule",
        "JobNotFoundError",
        "JobPausedError",
        "JobRunningError",
        "JobSchedulerError",
        "JobStorage",
        "JobTimeoutError",
        "JobTracer",
        "MAX_LEASE_ID_LENGTH",
        "MemoryStorage",
        "NoopJobTracer",
        "NopLogger",
        "OpenTelemetryJobTracer",
        "RequestScopedJobHandlerError",
        "RunAbortedError",
        "RunAlreadyRecordedError",
        "Scheduler",
        "SchedulerAlreadyStartedError",
        "SchedulerNotStartedError",
        "SchedulerService",
        "StdLogger",
        "StorageClosedError",
        "StorageUnavailableError",
        "UNTRACED",
        "createJobTracer",
        "declaredJobId",
        "isBatchStorage",
        "isClusterStorage",
        "isPrunableStorage",
        "isTransactionalJobStorage",
        "type AddJobOptions",
        "type BatchStorage",
        "type BatchingStorageMetrics",
        "type CachingStorageMetrics",
        "type ClusterOptions",
        "type ClusterStorage",
        "type Duration",
        "type DurationStats",
        "type Handler",
        "type HandlerFunc",
        "type HandlerRegistrationOptions",
        "type HistoryRetentionOptions",
        "type InstantInput",
        "type Job",
        "type JobBackoff",
        "type JobClaim",
        "type JobContext",
        "type JobDefinition",
        "type JobEvent",
        "type JobEventType",
        "type JobHandlerMetadata",
        "type JobHandlerOptions",
        "type JobLogger",
        "type JobModuleAsyncOptions",
        "type JobModuleExtraOptions",
        "type JobModuleOptions",
        "type JobOptionsFactory",
        "type JobQuery",
        "type JobStatus",
        "type JobType",
        "type JobVersion",
        "type JobWriteCondition",
        "type JsonValue",
        "type LeaseRecord",
        "type MemoryStorageOptions",
        "type MisfirePolicy",
        "type OrphanedJob",
        "type Page",
        "type PrunableStorage",
        "type Run",
        "type RunEndOutcome",
        "type RunPruneCriteria",
        "type RunQuery",
        "type RunRelease",
        "type RunStatsBucket",
        "type RunStatsQuery",
        "type RunStatus",
        "type SchedulerCounters",
        "type SchedulerHealth",
        "type SchedulerMetrics",
        "type SchedulerOptions",
        "type TraceHandle",
        "type TransactionalJobStorage",
      ]
    `);
  });

  it('of nestjs-job-scheduler/typeorm', () => {
    expect(surfaces['nestjs-job-scheduler/typeorm']).toMatchInlineSnapshot(`
      [
        "DEFAULT_JOB_TABLE_NAME",
        "DEFAULT_LEASE_TABLE_NAME",
        "DEFAULT_RUN_TABLE_NAME",
        "JOB_HISTORY_INDEXES_MIGRATION_TIMESTAMP",
        "JOB_RUN_POLICY_MIGRATION_TIMESTAMP",
        "JOB_TABLES_MIGRATION_TIMESTAMP",
        "TYPEORM_MAX_PAYLOAD_BYTES",
        "TypeOrmStorage",
        "addJobHistoryIndexesMigration",
        "addJobRunPolicyColumnsMigration",
        "createJobEntitySchema",
        "createJobSchedulerEntitySchemas",
        "createJobTablesMigration",
        "createLeaseEntitySchema",
        "createRunEntitySchema",
        "type JobEntitySchemaOptions",
        "type JobRow",
        "type JobSchedulerEntitySchemasOptions",
        "type JobTableNameOptions",
        "type JobTableNames",
        "type JobTablesMigrationOptions",
        "type LeaseEntitySchemaOptions",
        "type LeaseRow",
        "type RunEntitySchemaOptions",
        "type RunRow",
        "type TypeOrmStorageOptions",
      ]
    `);
  });

  it('of nestjs-job-scheduler/terminus', () => {
    expect(surfaces['nestjs-job-scheduler/terminus']).toMatchInlineSnapshot(`
      [
        "JobSchedulerHealthIndicator",
        "type JobSchedulerHealthOptions",
      ]
    `);
  });

  it('of nestjs-job-scheduler/testing', () => {
    expect(surfaces['nestjs-job-scheduler/testing']).toMatchInlineSnapshot(`
      [
        "describeClusterStorageConformance",
        "describeStorageConformance",
        "makeJob",
        "makeRun",
        "type BasicMatchers",
        "type ExpectFn",
        "type Matchers",
        "type SharedStorage",
        "type TestApi",
      ]
    `);
  });

  it('of nestjs-job-scheduler/admin', () => {
    expect(surfaces['nestjs-job-scheduler/admin']).toMatchInlineSnapshot(`
      [
        "ADMIN_SECURITY_HEADERS",
        "JobAdminModule",
        "type AdminErrorBody",
        "type AdminJob",
        "type JobAdminModuleOptions",
        "type RecentRun",
      ]
    `);
  });

  it('has one entry for each subpath of package.json', async () => {
    const { readFileSync } = await import('node:fs');
    const manifest = JSON.parse(readFileSync(join(LIB, '..', 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(manifest.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'nestjs-job-scheduler' : `nestjs-job-scheduler/${key.slice(2)}`))
      .sort();
    expect(subpaths).toStrictEqual(Object.keys(ENTRIES).sort());
  });
}, 60_000);
