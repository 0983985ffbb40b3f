import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import { columnType, type ColumnSpec } from './job-table-columns.js';
import type { IndexSpec } from './job-tables.js';
import { dialectOf, SUPPORTED_DATA_SOURCE_TYPES_TEXT, type SqlDialect } from './typeorm-dialect.js';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';

/** Builds an entity schema from the shared column and index lists (see `job-table-columns.ts`). */
export function buildEntitySchema<T>(
  entityName: string,
  tableName: string,
  columns: readonly ColumnSpec[],
  indexes: readonly IndexSpec[],
  primaryKeyName: string,
  dialect: SqlDialect,
  schema?: string,
): EntitySchema<T> {
  const propertyOf = new Map(columns.map((spec) => [spec.name, spec.property]));
  const columnOptions: Record<string, EntitySchemaColumnOptions> = {};
  for (const spec of columns) {
    const { type, length, precision, charset, collation } = columnType(spec, dialect);
    const seq = spec.kind === 'seq';
    columnOptions[spec.property] = {
      name: spec.name,
      type: type as EntitySchemaColumnOptions['type'],
      ...(length === undefined ? {} : { length }),
      ...(precision === undefined ? {} : { precision }),
      ...(charset === undefined ? {} : { charset }),
      ...(collation === undefined ? {} : { collation }),
      nullable: spec.nullable === true,
      ...(seq
        ? {
            primary: true,
            generated: 'increment' as const,
            primaryKeyConstraintName: primaryKeyName,
          }
        : {}),
    };
  }
  return new EntitySchema<T>({
    name: entityName,
    tableName,
    ...(schema ? { schema } : {}),
    columns: columnOptions as EntitySchema<T>['options']['columns'],
    indices: indexes.map((index) => ({
      name: index.name,
      columns: index.columns.map((column) => propertyOf.get(column) ?? column),
      unique: index.unique,
    })),
  });
}

/** The dialect of a `type` option of an entity schema factory; `InvalidOptionsError` otherwise. */
export function entitySchemaDialect(type: unknown): SqlDialect {
  const dialect = dialectOf(type);
  if (!dialect) {
    throw new InvalidOptionsError(
      'type',
      type,
      `the type of the DataSource the schema is for: ${SUPPORTED_DATA_SOURCE_TYPES_TEXT}`,
    );
  }
  return dialect;
}
