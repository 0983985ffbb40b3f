import { Test } from '@nestjs/testing';
import { declaredJobId, JobModule, SchedulerService } from 'nestjs-job-scheduler';
import { GreetingService, TickHandler } from './jobs';
import { firstSuccess } from './runs';

// The app's own Jest test, as the Nest 11 starter runs it (Jest + ts-jest, CommonJS).
describe('jobs', () => {
  it('runs the declared cron job and a job added through SchedulerService', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [JobModule.forRoot()],
      providers: [TickHandler, GreetingService],
    }).compile();
    await moduleRef.init();
    try {
      const scheduler = moduleRef.get(SchedulerService);
      const added = await scheduler.addJob({
        name: 'greeting',
        handlerName: 'greet',
        runAt: new Date(),
        payload: { name: 'jest' },
      });
      expect((await firstSuccess(scheduler, added.id)).output).toBe('hello jest');
      expect((await firstSuccess(scheduler, declaredJobId('tick'))).output).toMatch(
        /^tick due at /,
      );
    } finally {
      await moduleRef.close();
    }
  }, 20_000);

  it('loads the CommonJS build of the package', () => {
    expect(require.resolve('nestjs-job-scheduler')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
  });
});
