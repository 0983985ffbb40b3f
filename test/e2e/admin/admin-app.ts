import {
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JobModule, MemoryStorage, SchedulerService, type JobLogger } from '../../../lib/index.js';
import { JobAdminModule, type JobAdminModuleOptions } from '../../../lib/admin/index.js';

/** The XSS payload the admin tests put in every text a user controls. */
export const XSS = '<img src=x onerror=alert(1)>';

/** A logger that keeps what it was told. */
export class RecordingLogger implements JobLogger {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(`log ${String(message)}`);
  }
  warn(message: unknown): void {
    this.lines.push(`warn ${String(message)}`);
  }
  error(message: unknown): void {
    this.lines.push(`error ${String(message)}`);
  }
}

/** An app's own guard: lets through requests with `x-api-key: secret`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers['x-api-key'] === 'secret';
  }
}

/** A listening app with JobModule and JobAdminModule; handlers `ok`, `boom` and `hold` (until released). */
export async function adminApp(
  admin: JobAdminModuleOptions = {},
  globalPrefix?: string,
  globalGuard?: CanActivate,
) {
  const logger = new RecordingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      JobModule.forRoot({ storage: new MemoryStorage(), logger, retryDelay: '1h' }),
      JobAdminModule.register(admin),
    ],
    providers: [ApiKeyGuard],
  }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  if (globalPrefix !== undefined) app.setGlobalPrefix(globalPrefix);
  if (globalGuard !== undefined) app.useGlobalGuards(globalGuard);
  const scheduler = app.get(SchedulerService);
  const releases: Array<() => void> = [];
  scheduler.registerHandlerFunc('ok', () => XSS);
  scheduler.registerHandlerFunc('boom', () => {
    throw new Error(XSS);
  });
  scheduler.registerHandlerFunc(
    'hold',
    () => new Promise<string>((resolve) => releases.push(() => resolve('released'))),
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const origin = `http://127.0.0.1:${address.port}`;
  const prefix = globalPrefix === undefined ? '' : `/${globalPrefix}`;
  const base = `${origin}${prefix}/${admin.path ?? 'jobs'}`;

  /** A request to `<base>/<path>`; a body is sent as JSON unless `headers` say otherwise. */
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: any; text: string; headers: Headers }> => {
    const response = await fetch(`${base}/${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };
  const close = async (): Promise<void> => {
    for (const release of releases.splice(0)) release();
    await app.close();
  };
  return { app, scheduler, logger, origin, base, call, releases, close };
}

export type AdminApp = Awaited<ReturnType<typeof adminApp>>;
