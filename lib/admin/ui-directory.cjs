'use strict';
// Where the dashboard's files are: `ui/` beside this file, in lib/ and in every build (the build
// copies them). Plain CommonJS, as package-require.cjs, so that both builds can find it without
// `import.meta.url`.

const { join } = require('node:path');

/** @type {string} */
const uiDirectory = join(__dirname, 'ui');
module.exports = { uiDirectory };
