// The suite of ../methods.test.ts on NestJS 11 (test/nest11-plugin.ts).
import '../methods.test'
