import { Module } from '@nestjs/common';
import { CacheService } from './cache.service.js';
import { CleanupHandler } from './cleanup.handler.js';

@Module({ providers: [CacheService, CleanupHandler] })
export class MaintenanceModule {}
