'use strict';
// `require` as this package's own files see it, so that optional peers resolve from where the
// package is installed. Plain CommonJS, copied as is into both builds: an ES module would need
// `import.meta.url`, which the CommonJS build cannot hold.
exports.packageRequire = require;
