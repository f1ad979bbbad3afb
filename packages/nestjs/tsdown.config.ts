import { libraryConfig } from '../../tsdown.shared.ts'

export default libraryConfig({
  outputOptions: {
    // The shared setting, which this object replaces.
    minifyInternalExports: false,
    // TypeScript's legacy decorators compile `@Module() class SseModule` to
    // `let SseModule = class SseModule {...}`, and rolldown renames the class expression's own
    // name to `SseModule$1` so that it does not shadow the outer binding. Nest shows that name
    // (`SseModule.name`) in its logs and DI errors, so keep the source names
    // (test/dist-names.test.ts checks both builds).
    keepNames: true,
  },
})
