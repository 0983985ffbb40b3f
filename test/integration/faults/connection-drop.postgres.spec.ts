import { TEST_DATABASES } from '../../utils/databases.js';
import { describeConnectionDrop } from './connection-drop.suite.js';

await describeConnectionDrop(TEST_DATABASES.postgres);
