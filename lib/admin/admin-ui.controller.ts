import { Get, Inject, Param, Req, Res, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AdminHttpError } from './admin-errors.js';
import { requestPath, type AdminRequest } from './admin-request.js';
import { UiFiles } from './ui-files.js';

/**
 * The dashboard's page (at the mount path) and its files (`assets/<name>`). Mounted at the
 * module's `path` by `JobAdminModule.register()`, with the module's guards.
 */
export class AdminUiController {
  constructor(
    @Inject(UiFiles) private readonly files: UiFiles,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  page(@Req() request: AdminRequest, @Res({ passthrough: true }) response: unknown): string {
    const path = requestPath(request);
    this.header(response, 'Content-Type', 'text/html; charset=utf-8');
    this.header(response, 'Cache-Control', 'no-store');
    return this.files.page(path.endsWith('/') ? path : `${path}/`);
  }

  @Get('assets/:file')
  asset(
    @Param('file') name: string,
    @Res({ passthrough: true }) response: unknown,
  ): StreamableFile {
    const file = this.files.asset(name);
    if (file === undefined) {
      throw new AdminHttpError(404, 'NOT_FOUND', 'No such file of the dashboard.');
    }
    this.header(response, 'Cache-Control', 'no-cache');
    return new StreamableFile(file.body, { type: file.contentType, length: file.body.length });
  }

  private header(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }
}
