import { TEST_DATABASES } from '../../utils/databases.js';
import { describeCluster } from './cluster.suite.js';

await describeCluster(TEST_DATABASES.postgres);
