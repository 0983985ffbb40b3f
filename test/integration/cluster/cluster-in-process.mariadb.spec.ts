import { TEST_DATABASES } from '../../utils/databases.js';
import { describeClusterInProcess } from './cluster-in-process.suite.js';

await describeClusterInProcess(TEST_DATABASES.mariadb);
