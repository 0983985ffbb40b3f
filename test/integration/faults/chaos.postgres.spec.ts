import { TEST_DATABASES } from '../../utils/databases.js';
import { describeChaos } from './chaos.suite.js';

await describeChaos(TEST_DATABASES.postgres);
