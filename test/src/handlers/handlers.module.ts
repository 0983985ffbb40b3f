import { Module } from '@nestjs/common';
import { Probe } from '../probe.module.js';
import { ALIASED_HANDLER, AliasedHandler } from './aliased.handler.js';
import { AuditController } from './audit.controller.js';
import { CleanupHandler } from './cleanup.handler.js';
import {
  FACTORY_MADE_HANDLER,
  FactoryMadeHandler,
  VALUE_HANDLERS,
  ValueHandlers,
} from './factory-made.handler.js';
import { ReportService } from './report.service.js';

/** Every kind of handler the explorer must find; a feature module that does not import JobModule. */
@Module({
  controllers: [AuditController],
  providers: [
    CleanupHandler,
    ReportService,
    AliasedHandler,
    { provide: ALIASED_HANDLER, useExisting: AliasedHandler },
    {
      provide: FACTORY_MADE_HANDLER,
      useFactory: (probe: Probe) => new FactoryMadeHandler('made by a factory', probe),
      inject: [Probe],
    },
    { provide: VALUE_HANDLERS, useValue: new ValueHandlers() },
  ],
  exports: [ALIASED_HANDLER, FACTORY_MADE_HANDLER, VALUE_HANDLERS],
})
export class HandlersModule {}

/** Every handler name `HandlersModule` registers. */
export const HANDLER_NAMES = [
  'cleanup',
  'report.build',
  'report.email',
  'audit.flush',
  'aliased',
  'factory-made',
  'value.method',
] as const;
