import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  JobModuleExtraOptions,
  JobModuleOptions,
} from './interfaces/job-module-options.interface.js';
import { JOB_MODULE_OPTIONS } from './job.constants.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<JobModuleOptions>({ optionsInjectionToken: JOB_MODULE_OPTIONS })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createJobOptions')
    .setExtras<JobModuleExtraOptions>({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
    }))
    .build();
