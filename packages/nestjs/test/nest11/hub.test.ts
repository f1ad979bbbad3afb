// The suite of ../hub.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../hub.test'
