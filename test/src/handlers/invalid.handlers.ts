import { Injectable, Scope } from '@nestjs/common';
import { JobHandler } from '../../../lib/index.js';

/** Two handlers named "duplicate": a class and a method of another provider. */
@JobHandler('duplicate')
@Injectable()
export class FirstDuplicateHandler {
  execute(): string {
    return 'first';
  }
}

@Injectable()
export class SecondDuplicateService {
  @JobHandler('duplicate')
  run(): string {
    return 'second';
  }
}

/** A handler on a request-scoped provider: rejected at bootstrap. */
@Injectable({ scope: Scope.REQUEST })
export class RequestScopedService {
  @JobHandler('request-scoped')
  run(): string {
    return 'never';
  }
}

/** A request-scoped provider with no handler. */
@Injectable({ scope: Scope.REQUEST })
export class RequestContextService {
  readonly user = 'someone';
}

/** A default-scoped provider that depends on a request-scoped one: request-scoped too. */
@Injectable()
export class DependsOnRequestScopedHandler {
  constructor(readonly context: RequestContextService) {}

  @JobHandler('depends-on-request-scoped')
  run(): string {
    return 'never';
  }
}

/** A class marked as a handler without an execute method. */
@JobHandler('no-execute')
@Injectable()
export class NoExecuteHandler {
  run(): string {
    return 'never';
  }
}

/** A transient provider: the scheduler gets its own instance, like any other consumer. */
@Injectable({ scope: Scope.TRANSIENT })
export class TransientService {
  readonly createdAt = Date.now();

  @JobHandler('transient')
  run(): string {
    return `transient ${typeof this.createdAt}`;
  }
}

/** A declared job whose cron expression is wrong: bootstrap fails with InvalidJobError. */
@JobHandler('bad-cron', { cron: 'every day at noon' })
@Injectable()
export class BadCronHandler {
  execute(): string {
    return 'never';
  }
}
