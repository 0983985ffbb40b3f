import { Global, Injectable, Module } from '@nestjs/common';

/** One call of a fixture handler, as the probe saw it. */
export interface ProbeCall {
  handler: string;
  payload: unknown;
  attempt: number;
  jobId: string;
  /** Who `this` was inside the handler (proves method handlers are bound to their instance). */
  self: unknown;
}

/** Records what fixture handlers did, per application (no module-level state). */
@Injectable()
export class Probe {
  readonly calls: ProbeCall[] = [];
  readonly events: string[] = [];

  record(call: ProbeCall): void {
    this.calls.push(call);
  }

  callsOf(handler: string): ProbeCall[] {
    return this.calls.filter((call) => call.handler === handler);
  }
}

@Global()
@Module({ providers: [Probe], exports: [Probe] })
export class ProbeModule {}
