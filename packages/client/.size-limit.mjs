// The browser bundle budget (issue 16): the built ESM entry with eventsource-parser, bundled
// and minified by esbuild for the browser as an app's bundler would, then gzipped (`gzip: true`;
// size-limit 12 measures brotli otherwise). "5 kB" is 5,000 bytes. Run by `check:package`, so
// `pnpm test` and CI fail over budget.
export default [
  {
    name: '@sse/client (browser ESM, with eventsource-parser)',
    path: 'dist/index.mjs',
    limit: '5 kB',
    gzip: true,
  },
]
