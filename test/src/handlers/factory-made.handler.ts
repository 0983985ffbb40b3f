import { JobHandler, type JobContext } from '../../../lib/index.js';
import type { Probe } from '../probe.module.js';

/** Token of the factory provider (`useFactory`) that builds a `FactoryMadeHandler`. */
export const FACTORY_MADE_HANDLER = 'FACTORY_MADE_HANDLER';

/** Not `@Injectable`: built by a factory provider, found through `instance.constructor`. */
@JobHandler('factory-made')
export class FactoryMadeHandler {
  constructor(
    readonly label: string,
    private readonly probe: Probe,
  ) {}

  execute(payload: unknown, ctx: JobContext): string {
    this.probe.record({
      handler: 'factory-made',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return this.label;
  }
}

/** Token of the value provider (`useValue`) holding a `ValueHandlers` instance. */
export const VALUE_HANDLERS = 'VALUE_HANDLERS';

/** A value provider (stateless, as it is shared by every app built from the module) whose method is a handler. */
export class ValueHandlers {
  @JobHandler('value.method')
  handle(payload: unknown): string {
    return `from a value provider: ${JSON.stringify(payload)}`;
  }
}
