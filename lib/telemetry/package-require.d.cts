/** `require` as this package's own files see it (resolving from where the package is installed). */
export declare const packageRequire: NodeJS.Require;
