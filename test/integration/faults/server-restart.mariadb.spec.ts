import { TEST_DATABASES } from '../../utils/databases.js';
import { describeServerRestart } from './server-restart.suite.js';

await describeServerRestart(TEST_DATABASES.mariadb);
