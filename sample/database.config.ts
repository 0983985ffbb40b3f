import type { DataSourceOptions } from 'typeorm';

/**
 * Where the sample keeps its jobs and runs. By default an embedded SQLite file (`sample.sqlite` in
 * the working directory), so history survives a restart with nothing to install. Set
 * `JOB_DATABASE_URL` to use a server instead:
 *   JOB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run start:sample
 *   JOB_DATABASE_URL=mysql://root@127.0.0.1:3306/test npm run start:sample   (MySQL or MariaDB)
 */
export function sampleDatabase(env: NodeJS.ProcessEnv = process.env): DataSourceOptions {
  const url = env.JOB_DATABASE_URL;
  if (!url) {
    return { type: 'better-sqlite3', database: env.SAMPLE_SQLITE_FILE ?? 'sample.sqlite' };
  }
  const scheme = url.slice(0, url.indexOf(':'));
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return { type: 'postgres', url };
    case 'mysql':
      return { type: 'mysql', url };
    case 'mariadb':
      return { type: 'mariadb', url: `mysql${url.slice(scheme.length)}` };
    default:
      throw new Error(
        `JOB_DATABASE_URL must start with postgres://, mysql:// or mariadb:// (got "${url}")`,
      );
  }
}
