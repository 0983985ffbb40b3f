import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

/**
 * Takes `payload.ms` milliseconds; when its signal fires first, it records that and rejects with
 * the signal's reason.
 */
@JobHandler('slow')
@Injectable()
export class SlowHandler {
  constructor(private readonly probe: Probe) {}

  execute(payload: { ms: number }, ctx: JobContext): Promise<string> {
    this.probe.events.push('slow:started');
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probe.events.push('slow:finished');
        resolve(`slept ${payload.ms} ms`);
      }, payload.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        this.probe.events.push('slow:aborted');
        reject(ctx.signal.reason);
      });
    });
  }
}
