import { TEST_DATABASES } from '../../../utils/databases.js';
import { describeTypeOrmClusterStorage } from './cluster-storage.suite.js';

await describeTypeOrmClusterStorage(TEST_DATABASES.mariadb);
// The same server through TypeORM's `mysql` type, as MySQL users configure it.
await describeTypeOrmClusterStorage(TEST_DATABASES.mysql);
