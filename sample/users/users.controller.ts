import { BadRequestException, Body, Controller, Get, Post } from '@nestjs/common';
import { UsersService, type User } from './users.service.js';

/** `POST /users { "email": "..." }` saves a user and, in the same transaction, its welcome mail job. */
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  create(@Body() body: { email?: unknown }): Promise<User & { welcomeJobId: string }> {
    const email = body?.email;
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw new BadRequestException('email: an address such as "ada@example.com"');
    }
    return this.users.signUp(email);
  }

  @Get()
  list(): Promise<User[]> {
    return this.users.list();
  }
}
