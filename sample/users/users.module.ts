import { Module } from '@nestjs/common';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { WelcomeMailHandler } from './welcome-mail.handler.js';

@Module({ controllers: [UsersController], providers: [UsersService, WelcomeMailHandler] })
export class UsersModule {}
