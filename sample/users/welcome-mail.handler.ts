import { Injectable, Logger } from '@nestjs/common';
import { JobHandler, type Handler } from '../../lib/index.js';

interface WelcomePayload {
  email: string;
}

/**
 * Sends the welcome mail of a new user (here: logs it). No schedule of its own: `POST /users` adds
 * one `once` job per user, in the transaction that saves the user.
 */
@JobHandler('welcome-mail')
@Injectable()
export class WelcomeMailHandler implements Handler<WelcomePayload, string> {
  private readonly logger = new Logger('WelcomeMail');

  execute(payload: WelcomePayload): string {
    if (!/^[^@\s]+@[^@\s]+$/.test(payload.email)) {
      throw new Error(`not an email address: ${payload.email}`);
    }
    this.logger.log(`Welcome mail sent to ${payload.email}`);
    return `sent to ${payload.email}`;
  }
}
