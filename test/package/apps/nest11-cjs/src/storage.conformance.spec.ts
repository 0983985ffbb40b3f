import { MemoryStorage } from 'nestjs-job-scheduler';
import { describeStorageConformance } from 'nestjs-job-scheduler/testing';

// What a custom storage's own test looks like under Jest: the conformance suite of
// nestjs-job-scheduler/testing, given Jest's globals, here on MemoryStorage.
describeStorageConformance(
  { describe, it, expect, beforeEach, afterEach },
  'MemoryStorage under Jest',
  () => new MemoryStorage(),
);
