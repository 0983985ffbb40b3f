'use strict';
// `require` as this package's own files see it, so that optional peers resolve from where the
// package is installed. Plain CommonJS, which every build (ES, CommonJS, the sample's) emits as is:
// an ES module would need `import.meta.url`, which the CommonJS build cannot hold.

/** @type {NodeJS.Require} */
const packageRequire = require;
module.exports = { packageRequire };
