import { TEST_DATABASES } from '../../../utils/databases.js';
import { describeTypeOrmClusterStorageRefusal } from './cluster-storage.suite.js';

describeTypeOrmClusterStorageRefusal(TEST_DATABASES['sqlite-memory']);
