import { TEST_DATABASES } from '../../../utils/databases.js';
import { describeTypeOrmStorage } from './typeorm-storage.suite.js';

await describeTypeOrmStorage(TEST_DATABASES['sqlite-file']);
await describeTypeOrmStorage(TEST_DATABASES['sqlite-memory'], { conformanceOnly: true });
