// The hook's own cost in a browser bundle: react and @sse/client are left out (an app that uses
// the hook has them anyway; the client's budget is checked in its own package). Gzipped, as
// @sse/client's is measured. Run by `check:package`, so `pnpm test` and CI fail over budget.
export default [
  {
    name: '@sse/react (the hook alone, browser ESM)',
    path: 'dist/index.mjs',
    ignore: ['react', '@sse/client'],
    limit: '1 kB',
    gzip: true,
  },
]
