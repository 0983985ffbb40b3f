import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SchedulerService } from '../../lib/index.js';

export interface User {
  email: string;
  createdAt: string;
}

/**
 * The sample's own table (`sample_users`) and the welcome mail: the user and its `once` job are
 * written in one transaction (`addJob(definition, { manager })`), so a user whose save fails gets
 * no mail, and a saved user always gets one.
 */
@Injectable()
export class UsersService implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: SchedulerService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.dataSource.query(
      'CREATE TABLE IF NOT EXISTS sample_users (email VARCHAR(255) PRIMARY KEY, created_at VARCHAR(32) NOT NULL)',
    );
  }

  signUp(email: string): Promise<User & { welcomeJobId: string }> {
    const createdAt = new Date().toISOString();
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO sample_users (email, created_at) VALUES (${this.placeholders(2)})`,
        [email, createdAt],
      );
      const job = await this.scheduler.addJob(
        {
          name: `Welcome mail to ${email}`,
          handlerName: 'welcome-mail',
          runAt: Date.now() + 2_000,
          payload: { email },
          maxRetry: 3,
          retryDelay: '2s',
          backoff: 'exponential',
        },
        { manager },
      );
      return { email, createdAt, welcomeJobId: job.id };
    });
  }

  async list(): Promise<User[]> {
    const rows: Array<{ email: string; created_at: string }> = await this.dataSource.query(
      'SELECT email, created_at FROM sample_users ORDER BY created_at',
    );
    return rows.map((row) => ({ email: row.email, createdAt: row.created_at }));
  }

  /** `$1, $2` on PostgreSQL, `?, ?` elsewhere. */
  private placeholders(count: number): string {
    const postgres = this.dataSource.options.type === 'postgres';
    return Array.from({ length: count }, (_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');
  }
}
