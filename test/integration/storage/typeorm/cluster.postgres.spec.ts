import { TEST_DATABASES } from '../../../utils/databases.js';
import { describeTypeOrmClusterStorage } from './cluster-storage.suite.js';

await describeTypeOrmClusterStorage(TEST_DATABASES.postgres);
